// What a processor member holds per input partition number: the input topics of
// it assigned to the member (co-partitioned topics share one store), its store,
// and its restore while one runs. Ownership (partitionOwnership.ts) and restores
// (restoreStateMachine.ts) both change it; batches and hooks read it via `ctx`.
import type { PartitionStore } from './partitionStore.ts';
import type { ProcessContext } from './processorTypes.ts';
import type { Consumer } from './rdkafkaPromises.ts';

/** A partition's restore in flight (restoreStateMachine.ts): settles when it is live, failed or abandoned. */
export interface RunningRestore {
  readonly settled: Promise<void>;
}

/** A batch or hook asked for a partition's store that this member does not hold: a rebalance, never the record's fault. */
export class PartitionNotOwned extends Error {}

export class OwnedPartitions<V> {
  readonly stores = new Map<number, PartitionStore<V>>();
  readonly owned = new Map<number, Set<string>>();
  /** Partitions assigned but still restoring (paused until done). */
  readonly restoring = new Map<number, RunningRestore>();
  /** Partitions held only in part (some co-partitioned topics assigned elsewhere): refused until whole (copartitioning.ts). */
  readonly split = new Set<number>();
  /** Called after the rebalance callback or a deferred release changed what is held (the co-partitioning check). */
  onChange: ((consumer: Consumer) => void) | undefined;
  /** Store access for batches and hooks. */
  readonly ctx: ProcessContext<V>;

  constructor(clientId: string) {
    this.ctx = {
      store: (partition) => {
        const st = this.stores.get(partition);
        if (!st || this.split.has(partition))
          throw new PartitionNotOwned(`partition ${partition} is not owned by ${clientId} (revoked, still restoring, or split across members)`);
        return st;
      },
      partitions: () => [...this.stores.keys()].filter((p) => !this.restoring.has(p) && !this.split.has(p)).sort((a, b) => a - b),
    };
  }

  /** Input topics this member holds partition `p` of (the store lives while any remains). */
  topics(p: number): Set<string> {
    let set = this.owned.get(p);
    if (!set) this.owned.set(p, (set = new Set()));
    return set;
  }

  /** Whether this member holds `topic`[`partition`] (asks without recording the partition). */
  holds(topic: string, partition: number): boolean {
    return this.owned.get(partition)?.has(topic) === true;
  }
}
