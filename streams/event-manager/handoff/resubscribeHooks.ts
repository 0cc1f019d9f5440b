// The resubscribe handoff wired into the exactly-once runtime: the old owner's
// last transaction before it releases partitions (rebalance or clean stop), and
// the new owner's first one after restoring a partition (the old owner crashed
// and could not; dialogs found in a restored store were never handed off).
import type { NotifyRequest } from '../../../schemas/generated/records.ts';
import type { OutputRecord, TransactionalProcessorOptions } from '../../../kafka/transactionalProcessor.ts';
import type { ManagedSubscriber } from '../managedSubscriber.ts';
import { deactivateDialogs } from './deactivateDialogs.ts';

type Hooks = Pick<TransactionalProcessorOptions<ManagedSubscriber>, 'onRevoking' | 'afterRestore'>;

interface ResubscribeHookOptions {
  /** A NotifyRequest as the notify-requests record keyed by its presentity. */
  toRecord: (key: string, n: NotifyRequest) => OutputRecord;
  /** Told how many dialogs ended, and why (for stats and logs). */
  ended?: (count: number, partitions: number[], why: 'handover' | 'inherited') => void;
}

export function resubscribeHooks(o: ResubscribeHookOptions): Hooks {
  const end = (partitions: number[], store: (p: number) => Parameters<typeof deactivateDialogs>[0], why: 'handover' | 'inherited') => {
    const out: OutputRecord[] = [];
    const now = Date.now();
    for (const p of partitions) for (const { key, notify } of deactivateDialogs(store(p), now)) out.push(o.toRecord(key, notify));
    if (out.length > 0) o.ended?.(out.length, partitions, why);
    return out;
  };
  return {
    onRevoking: (partitions, ctx) => end(partitions, (p) => ctx.store(p), 'handover'),
    afterRestore: (partition, ctx) => end([partition], (p) => ctx.store(p), 'inherited'),
  };
}
