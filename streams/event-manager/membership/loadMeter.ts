// What an event manager reports about its load: records processed per
// partition and the share of wall time spent processing them, over the
// interval since the previous report (the load-aware assignor reads these).
import type { PartitionLoad } from '../../../schemas/generated/records.ts';

interface LoadSample {
  /** 0..1: busy time / wall time since the previous sample. */
  utilization: number;
  partitionLoad: PartitionLoad[];
}

export class LoadMeter {
  private readonly counts = new Map<number, number>();
  private busyMs = 0;
  private since: number;

  constructor(private readonly now: () => number = () => performance.now()) {
    this.since = now();
  }

  /** One input record of a partition was processed. */
  count(partition: number, n = 1): void {
    this.counts.set(partition, (this.counts.get(partition) ?? 0) + n);
  }

  /** Times one batch's processing (the busy part of utilization). */
  async timed<T>(work: () => Promise<T>): Promise<T> {
    const start = this.now();
    try {
      return await work();
    } finally {
      this.busyMs += this.now() - start;
    }
  }

  /**
   * Rates and utilization since the previous sample, then starts a new
   * interval. `owned` lists the partitions to report (idle ones get 0) with
   * their subscriber counts; counts of partitions no longer owned are dropped.
   */
  sample(owned: ReadonlyMap<number, number>): LoadSample {
    const t = this.now();
    const wallMs = Math.max(t - this.since, 1);
    const partitionLoad = [...owned.entries()]
      .sort(([a], [b]) => a - b)
      .map(([partition, subscribers]) => ({ partition, eventsPerSecond: ((this.counts.get(partition) ?? 0) * 1000) / wallMs, subscribers }));
    const utilization = Math.min(1, Math.max(0, this.busyMs / wallMs));
    this.counts.clear();
    this.busyMs = 0;
    this.since = t;
    return { utilization, partitionLoad };
  }
}
