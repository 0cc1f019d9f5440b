// delivery-reports: how a NOTIFY fared at its watcher. Only the failure of a
// dialog's latest NOTIFY ends it (applyDeliveryReport: stale reports of re-sent
// duplicates are ignored, the CSeq is remembered).
import { applyDeliveryReport } from '../subscriptions/watcherDialog.ts';
import { watcherSnapshot } from '../subscriptions/watcherInfo.ts';
import type { TopicHandler } from './context.ts';
import { sendWithWatcherInfo } from './watcherInfoChange.ts';

export const deliveryReports: TopicHandler = {
  topic: 'delivery-reports',
  needsAvailability: false,
  async handle(ctx, p, key, value, m, out) {
    const r = await ctx.serde.decode('delivery-reports', value);
    ctx.stats.reports++;
    const before = watcherSnapshot(m.watchers);
    const { changed, notifies } = applyDeliveryReport(m.watchers, key, r, ctx.clock(p));
    // A watcher that could not be reached is no longer one: the presentity's winfo dialogs are told.
    sendWithWatcherInfo(ctx, key, m, before, notifies, ctx.clock(p), null, out);
    return changed;
  },
};
