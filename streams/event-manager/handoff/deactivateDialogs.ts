// Resubscribe handoff: every active dialog of a partition's presentities ends
// with NOTIFY terminated;reason=deactivated (next CSeq and version of the
// dialog) and leaves the store — the subscriber's presence stays and moves on.
// Run by the old owner in its last transaction before releasing the partition
// (graceful revocation or stop), or by the new owner right after restoring a
// partition whose old owner could not (crash: the dialogs are still there).
import type { NotifyRequest } from '../../../schemas/generated/records.ts';
import type { PartitionStore } from '../../../kafka/partitionStore.ts';
import type { ManagedSubscriber } from '../managedSubscriber.ts';
import { terminateAll } from '../subscriptions/watcherDialog.ts';

interface DeactivatedNotify {
  key: string;
  notify: NotifyRequest;
}

/**
 * Ends every dialog held in the store, as pending store writes (the caller's
 * transaction commits or discards them). Works on copies: the committed
 * values stay as they were if that transaction aborts.
 */
export function deactivateDialogs(store: PartitionStore<ManagedSubscriber>, nowMs: number): DeactivatedNotify[] {
  const out: DeactivatedNotify[] = [];
  // Key by key: a compact store decodes each on read, not all of them at once. put() leaves the committed keys as they are.
  for (const key of store.keys()) {
    const m = store.get(key);
    if (!m || m.watchers.size === 0) continue;
    const dialogs = new Map([...m.watchers].map(([k, d]) => [k, { ...d, routeSet: [...d.routeSet] }]));
    for (const notify of terminateAll(dialogs, key, 'deactivated', nowMs)) out.push({ key, notify });
    store.put(key, { ...m, watchers: new Map() });
  }
  return out;
}
