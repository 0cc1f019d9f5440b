// A fixed-bucket latency histogram that components keep in their stats objects
// (no Prometheus dependency down there); protocols/http/metrics.ts exposes it as a
// Prometheus histogram at scrape time. Observations are in seconds (base unit).

/** From 1 ms to SIP Timer F (32 s): the span of a SIP round trip or a Kafka round trip. */
export const LATENCY_BUCKETS_S: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 32];

export class LatencyHistogram {
  /** Non-cumulative count per bucket; the last slot is +Inf. */
  private readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly buckets: readonly number[] = LATENCY_BUCKETS_S) {
    for (let i = 1; i < buckets.length; i++) if (!(buckets[i]! > buckets[i - 1]!)) throw new Error('histogram buckets must increase');
    this.counts = new Array<number>(buckets.length + 1).fill(0);
  }

  observe(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) return;
    let i = 0;
    while (i < this.buckets.length && seconds > this.buckets[i]!) i++;
    this.counts[i]!++;
    this.sum += seconds;
    this.count++;
  }

  /** Times `work` and observes its duration whether it resolves or rejects. */
  async time<T>(work: () => Promise<T>): Promise<T> {
    const start = process.hrtime.bigint();
    try {
      return await work();
    } finally {
      this.observe(Number(process.hrtime.bigint() - start) / 1e9);
    }
  }

  /** The upper bound (seconds) of the bucket holding quantile q (0–1); Infinity past the last bucket, undefined when empty. For stats lines. */
  quantileBound(q: number): number | undefined {
    if (this.count === 0) return undefined;
    const rank = Math.ceil(q * this.count);
    let running = 0;
    for (let i = 0; i < this.buckets.length; i++) if ((running += this.counts[i]!) >= rank) return this.buckets[i]!;
    return Infinity;
  }

  /** Cumulative counts by upper bound, +Inf last (Prometheus' `le`). */
  cumulative(): Array<[string, number]> {
    let running = 0;
    const out: Array<[string, number]> = this.buckets.map((b, i) => [String(b), (running += this.counts[i]!)]);
    out.push(['+Inf', running + this.counts[this.buckets.length]!]);
    return out;
  }
}
