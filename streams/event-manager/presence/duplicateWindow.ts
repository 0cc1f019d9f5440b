// Signaling events seen twice (a tap that re-sends after a timeout, a capture
// replayed again) change nothing: a partition remembers the ids of its recent
// events — bounded by count and by time, not per subscriber (64 ids per
// subscriber used to be most of an idle subscriber's state).
//
// Guarantee: an event is dropped as a duplicate when an event with its id was
// applied on this partition earlier, is among its last `ids` ids, and is not
// older than `horizonMs` behind the partition's newest event time; and, whatever
// the window held, when it is its subscriber's last applied event (the state's
// lastEventId, kept in the changelog). The window itself lives in memory: after
// a restart or a move it starts empty. A repeat it misses cannot regress
// presence (each facet keeps the capture time it reflects) but can count again
// (activity times, eventsSeen).
//
// It commits and rolls back with its partition's store: the ids of an aborted
// batch are forgotten, so the re-read batch is not taken for duplicates.
import type { StoreParticipant } from '../../../kafka/partitionStore.ts';

export interface DuplicateWindowLimits {
  /** Event ids remembered per partition. */
  readonly ids: number;
  /** How far behind the partition's newest event time an id is still remembered. */
  readonly horizonMs: number;
}

/** ~2 MB of ids per partition at most; 10 minutes covers a tap's retries and a re-sent capture file. */
export const DEFAULT_DUPLICATE_WINDOW: DuplicateWindowLimits = { ids: 20_000, horizonMs: 10 * 60_000 };

export class DuplicateWindow implements StoreParticipant {
  /** Committed ids → their event time, oldest first (insertion order). */
  private readonly committed = new Map<string, number>();
  /** Ids of the batch in progress. */
  private readonly batch = new Map<string, number>();
  private newest = -Infinity;

  constructor(private readonly limits: DuplicateWindowLimits = DEFAULT_DUPLICATE_WINDOW) {}

  /** True when `id` was seen (committed, or earlier in this batch); otherwise it is remembered with this batch. */
  seen(id: string, time: number): boolean {
    if (this.committed.has(id) || this.batch.has(id)) return true;
    this.batch.set(id, time);
    return false;
  }

  commit(): void {
    for (const [id, time] of this.batch) {
      this.committed.set(id, time);
      if (time > this.newest) this.newest = time;
    }
    this.batch.clear();
    this.evict();
  }

  rollback(): void {
    this.batch.clear();
  }

  get size(): number {
    return this.committed.size;
  }

  /** Oldest first: past the count, and past the horizon (from the front: arrival order is nearly time order). */
  private evict(): void {
    let over = this.committed.size - this.limits.ids;
    const horizon = this.newest - this.limits.horizonMs;
    for (const [id, time] of this.committed) {
      if (over <= 0 && time >= horizon) break;
      this.committed.delete(id);
      over--;
    }
  }
}
