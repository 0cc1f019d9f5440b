// directory-changes: the subscriber directory's rows (Debezium CDC, keyed by
// subscriber key). Only a tombstone matters here — the subscriber was deleted:
// every watcher's dialog ends with NOTIFY terminated;reason=noresource (RFC 6665
// §4.2.2: the resource no longer exists, do not re-subscribe), the subscriber's
// state leaves the store and current-presence gets a tombstone, so nothing
// downstream keeps showing a presence that has no owner any more.
import { terminateAll } from '../subscriptions/watcherDialog.ts';
import type { TopicHandler } from './context.ts';

export const subscriberDeletions: TopicHandler = {
  topic: 'directory-changes',
  needsAvailability: false,
  // A row written or learned: nothing to do (the subscriber's state starts with its first event).
  tombstonesOnly: true,
  handle: async () => false,
  handleTombstone(ctx, p, key, m, out) {
    for (const n of terminateAll(m.watchers, key, 'noresource', ctx.dialogClock(p)))
      out.push({ topic: ctx.topic('notify-requests'), key, value: ctx.serde.encode('notify-requests', n) });
    out.push({ topic: ctx.topic('current-presence'), key, value: null });
    return true;
  },
};
