// delivery-reports: how a NOTIFY fared at its watcher.
import { deliveryEndsSubscription, forgetDialog } from '../subscriptions/watcherDialog.ts';
import type { TopicHandler } from './context.ts';

export const deliveryReports: TopicHandler = {
  topic: 'delivery-reports',
  needsAvailability: false,
  async handle(ctx, _p, _key, value, m) {
    const r = await ctx.serde.decode('delivery-reports', value);
    ctx.stats.reports++;
    // The watcher is gone, unreachable or refused the NOTIFY: the subscription ends without another NOTIFY.
    if (deliveryEndsSubscription(r.outcome)) return forgetDialog(m.watchers, r.callId);
    return false;
  },
};
