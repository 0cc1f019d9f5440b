// Publishes an event manager's MemberReport on the compacted
// event-manager-members topic, keyed by member id: every interval, soon after
// each assignment change, a final one with leaving=true on a clean stop and
// then a tombstone. The locator and the SIP front ends (redirect/proxy)
// resolve partition owners from these; the load-aware assignor reads the load;
// the console shows the restores in progress, so while one runs a report goes
// out every second (a restore is the rebalance's pause: people watch it).
import os from 'node:os';
import type { MemberReport, PartitionRestore } from '../../../schemas/generated/records.ts';
import type { RecordSerde } from '../../../schemas/serde.ts';
import type { RecordProducer } from '../../../kafka/recordProducer.ts';
import type { LoadMeter } from './loadMeter.ts';

interface MemberReporterOptions {
  memberId: string;
  topic: string;
  serde: RecordSerde;
  producer: RecordProducer;
  meter: LoadMeter;
  /** Partitions owned right now, with their subscriber counts (0 while still restoring). */
  owned: () => Map<number, number>;
  /** Restores in progress (kafka/restoreStateMachine.ts); none: never reported. */
  restoring?: () => PartitionRestore[];
  /** Between reports while a restore runs (default 1 s). */
  restoreIntervalMs?: number;
  sipContact?: string | null;
  /** The member's SIP over TLS contact (sips:host:port), when its front end listens on TLS. */
  sipsContact?: string | null;
  httpUrl?: string | null;
  capacityEventsPerSecond?: number;
  intervalMs: number;
  /** Coalesces the bursts of callbacks one rebalance makes. Default 100 ms. */
  assignmentDebounceMs?: number;
  log?: (line: string) => void;
}

export class MemberReporter {
  readonly startedAt = Date.now();
  /** Reports published; failures (logged, the next interval retries). */
  readonly stats = { published: 0, failures: 0 };
  private timer: NodeJS.Timeout | undefined;
  private pendingChange: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> = Promise.resolve();
  private stopped = false;
  private lastError: string | undefined;
  private restoreTimer: NodeJS.Timeout | undefined;
  /** The last report named restores: one more report once they are done, so the page sees them end. */
  private reportedRestoring = false;

  constructor(private readonly o: MemberReporterOptions) {
    if (!(o.intervalMs > 0)) throw new RangeError(`member report interval must be positive, got ${o.intervalMs} ms`);
  }

  start(): Promise<void> {
    this.timer = setInterval(() => void this.publish(), this.o.intervalMs);
    this.timer.unref();
    if (this.o.restoring) {
      this.restoreTimer = setInterval(() => {
        if (this.reportedRestoring || this.o.restoring!().length > 0) void this.publish();
      }, this.o.restoreIntervalMs ?? 1000);
      this.restoreTimer.unref();
    }
    return this.publish();
  }

  /** The assignment changed: report soon (once per burst of callbacks). */
  assignmentChanged(): void {
    if (this.stopped || this.pendingChange) return;
    this.pendingChange = setTimeout(() => {
      this.pendingChange = undefined;
      void this.publish();
    }, this.o.assignmentDebounceMs ?? 100);
    this.pendingChange.unref();
  }

  /** The report as it would be published now (also resets the load interval). */
  report(leaving = false): MemberReport {
    const owned = this.o.owned();
    const { utilization, partitionLoad } = this.o.meter.sample(owned);
    const restoring = this.o.restoring?.() ?? [];
    this.reportedRestoring = restoring.length > 0;
    return {
      memberId: this.o.memberId,
      host: os.hostname(),
      pid: process.pid,
      sipContact: this.o.sipContact ?? null,
      httpUrl: this.o.httpUrl ?? null,
      partitions: [...owned.keys()].sort((a, b) => a - b),
      partitionLoad,
      utilization,
      capacityEventsPerSecond: this.o.capacityEventsPerSecond ?? 0,
      startedAt: this.startedAt,
      reportedAt: Date.now(),
      leaving,
      restoring,
      sipsContact: this.o.sipsContact ?? null,
    };
  }

  /** Publishes one report; serialized so reports reach the topic in order. */
  publish(leaving = false): Promise<void> {
    if (this.stopped && !leaving) return this.inFlight;
    this.inFlight = this.inFlight.then(async () => {
      try {
        const r = this.report(leaving);
        await this.o.producer.send(this.o.topic, this.o.memberId, this.o.serde.encode('event-manager-members', r), r.reportedAt);
        this.stats.published++;
        if (this.lastError) this.o.log?.(`member reports published again on ${this.o.topic}`);
        this.lastError = undefined;
      } catch (err) {
        this.stats.failures++;
        const msg = (err as Error).message;
        // Log a failure once per kind, not every interval.
        if (msg !== this.lastError) this.o.log?.(`member report not published on ${this.o.topic}: ${msg}`);
        this.lastError = msg;
      }
    });
    return this.inFlight;
  }

  /** Clean stop, step 1 (while still owning its partitions): a last report with leaving=true. */
  async leave(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.restoreTimer);
    clearTimeout(this.pendingChange);
    await this.publish(true);
  }

  /** Clean stop, step 2 (after leaving the group): the tombstone, so compaction forgets the member. */
  async forget(): Promise<void> {
    await this.inFlight;
    await this.o.producer
      .send(this.o.topic, this.o.memberId, null)
      .catch((err: Error) => this.o.log?.(`member tombstone not published on ${this.o.topic}: ${err.message}`));
  }
}
