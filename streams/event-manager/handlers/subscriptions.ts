// subscriptions: a watcher's SUBSCRIBE via a front end opens, refreshes or ends its
// dialog; the watcher rules decide what it may see.
import { applySubscribe } from '../subscriptions/watcherDialog.ts';
import { renderPresence } from '../presence/presenceDocument.ts';
import { DependencyUnavailable, type TopicHandler } from './context.ts';
import { PIDF, politeDocument } from './presenceChange.ts';

export const subscriptions: TopicHandler = {
  topic: 'subscriptions',
  needsAvailability: false,
  async handle(ctx, p, key, value, m, out) {
    const sub = await ctx.serde.decode('subscriptions', value);
    ctx.stats.subscribes++;
    ctx.advanceStream(p, sub.receivedAt);
    const decision = await ctx.rules.decide(sub.presentity, sub.watcherUri).catch((err: Error) => {
      throw new DependencyUnavailable(`watcher rules unavailable: ${err.message}`);
    });
    const body = m.notifiedPidf ?? renderPresence(m.presence);
    // The notifier's tag: the one the front end answered with, else stable per dialog.
    const localTag = sub.localTag ?? `em${Buffer.from(`${sub.callId}/${sub.watcherTag}`).toString('base64url').slice(0, 12)}`;
    const { notifies } = applySubscribe(m.watchers, sub, decision, { contentType: PIDF, body }, politeDocument(key), sub.receivedAt, localTag);
    if (m.notifiedPidf === null) m.notifiedPidf = body;
    for (const n of notifies) out.push({ topic: ctx.topic('notify-requests'), key, value: ctx.serde.encode('notify-requests', n) });
    ctx.stats.notifies += notifies.length;
    return true;
  },
};
