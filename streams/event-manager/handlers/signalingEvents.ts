// signaling-events: a subscriber's SS7/SIP signaling changes its presence; its
// messaging facts (message waiting, a new message) go to its message-summary
// and message watchers (subscriptions/messageWaiting.ts).
import { apply } from '../presence/derive.ts';
import { applyMessaging } from '../subscriptions/messageWaiting.ts';
import type { TopicHandler } from './context.ts';
import { publishPresence } from './presenceChange.ts';

export const signalingEvents: TopicHandler = {
  topic: 'signaling-events',
  needsAvailability: true,
  async handle(ctx, p, key, value, m, out) {
    const e = await ctx.serde.decode('signaling-events', value);
    ctx.stats.signals++;
    ctx.advanceStream(p, e.time);
    if (ctx.duplicateWindow(p).seen(e.eventId, e.time)) {
      ctx.stats.duplicates++;
      return false;
    }
    // Before apply: a repeat of the subscriber's last event (the partition's window drops the others) tells nobody anything again.
    const repeat = m.presence.lastEventId === e.eventId;
    const r = apply(m.presence, e);
    let dirty = false;
    if (e.messaging && !repeat) {
      // The dialogs' clock: these NOTIFYs' Expires count down from it, as the SUBSCRIBEs' do.
      const told = applyMessaging(m, key, e.messaging, ctx.dialogClock(p), e.eventId);
      ctx.stats.messaging.repeats += told.repeated ? 1 : 0;
      ctx.stats.messaging.dropped += told.dropped;
      if (told.changed) {
        ctx.stats.messaging.applied++;
        m.presence = r.state; // its eventId remembered, so a redelivery is known as a repeat
        dirty = true;
        for (const n of told.notifies) out.push({ topic: ctx.topic('notify-requests'), key, value: ctx.serde.encode('notify-requests', n) });
        ctx.stats.notifies += told.notifies.length;
      }
    }
    if (!r.changed) return dirty;
    m.presence = r.state;
    publishPresence(ctx, key, m, ctx.clock(p), e.eventId, out);
    return true;
  },
};
