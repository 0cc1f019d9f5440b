// delivery-reports: how a NOTIFY fared at its watcher. Only the failure of a
// dialog's latest NOTIFY ends it (applyDeliveryReport: stale reports of re-sent
// duplicates are ignored, the CSeq is remembered).
import { applyDeliveryReport } from '../subscriptions/watcherDialog.ts';
import type { TopicHandler } from './context.ts';

export const deliveryReports: TopicHandler = {
  topic: 'delivery-reports',
  needsAvailability: false,
  async handle(ctx, p, key, value, m, out) {
    const r = await ctx.serde.decode('delivery-reports', value);
    ctx.stats.reports++;
    const { changed, notifies } = applyDeliveryReport(m.watchers, key, r, ctx.clock(p));
    for (const n of notifies) out.push({ topic: ctx.topic('notify-requests'), key, value: ctx.serde.encode('notify-requests', n) });
    ctx.stats.notifies += notifies.length;
    return changed;
  },
};
