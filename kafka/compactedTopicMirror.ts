// A compacted topic mirrored into memory (a GlobalKTable, in Kafka Streams'
// words): every partition assigned (no consumer group, nothing committed),
// read from the beginning, read_committed; open() resolves once every
// partition was read to its end, then the mirror either stops or follows new
// records until close(). What a record means is the caller's apply().
// "Its end" is where the partition ended when open() began (as Kafka Streams
// restores a global store up to the end offsets it looked up first), or
// librdkafka's end-of-partition event: that event needs an empty fetch at the
// end, which a writer faster than fetch.wait.max.ms never allows. The event is
// still needed for transactional topics, whose last offset is a commit marker
// that is never delivered.
// Shared by the SIP front end's view of `groups` and the coordinator's view of
// `event-manager-members`.
import { randomUUID } from 'node:crypto';
import { assignedReader, consumeOrRetry, highWatermark, partitionCount } from './assignedConsumer.ts';
import { asError, connectConsumer, disconnect, type Consumer, type Message } from './rdkafkaPromises.ts';

export interface CompactedTopicMirrorOptions {
  readonly brokers: string;
  readonly topic: string;
  readonly clientId: string;
  /** librdkafka wants a group id even for assign(); a unique one under this prefix, never committed to. */
  readonly groupIdPrefix: string;
  /** One keyed record; value null is a tombstone. A throw counts the record undecodable and skips it. */
  readonly apply: (key: string, value: Buffer | null, m: Message) => void | Promise<void>;
  /** Keep reading after the end was reached (default false: close there). */
  readonly follow?: boolean;
  /** How long reaching the end may take before open() fails. */
  readonly catchUpTimeoutMs: number;
  /** Before the end is reached, a failed fetch fails open() at once ('fail') or is retried until the timeout ('retry', the default). */
  readonly fetchErrorBeforeCaughtUp?: 'fail' | 'retry';
  readonly connectTimeoutMs?: number;
  readonly consumeTimeoutMs?: number;
  readonly batchSize?: number;
  /** Also told of records without a key (skipped). */
  readonly onKeyless?: (m: Message) => void;
  readonly log?: (line: string) => void;
}

export class CompactedTopicMirror {
  /** Records apply() threw on (logged, skipped: one bad record must not blind the mirror). */
  undecodable = 0;
  private running = true;
  private loop: Promise<void> | undefined;
  private partitions = 0;
  private readonly atEnd = new Set<number>();
  /** Per partition, the high watermark when open() began (Infinity while it could not be looked up). */
  private endOffsets: number[] = [];
  /** Per partition, the offset after the last record applied. */
  private readonly nextOffsets: number[] = [];
  private onCaughtUp: () => void = () => {};
  private onFetchFailed: (err: Error) => void = () => {};

  private constructor(
    private readonly consumer: Consumer,
    private readonly o: CompactedTopicMirrorOptions,
  ) {}

  static async open(o: CompactedTopicMirrorOptions): Promise<CompactedTopicMirror> {
    const consumer = assignedReader(o.brokers, o.clientId, `${o.groupIdPrefix}${randomUUID()}`);
    await connectConsumer(consumer, o.connectTimeoutMs).catch((e) => {
      throw new Error(`could not connect to Kafka at ${o.brokers} to read ${o.topic}: ${asError(e).message}`);
    });
    const mirror = new CompactedTopicMirror(consumer, o);
    try {
      mirror.partitions = await partitionCount(consumer, o.topic);
      // A partition whose end cannot be looked up yet (a new client's metadata without its leader) is asked
      // again: left to its end-of-partition event, a partition a writer keeps appending to would never end.
      // Past half the catch-up time reading starts anyway, and the lookup goes on beside it (learnEnd).
      const lookupUntil = Date.now() + o.catchUpTimeoutMs / 2;
      const endOf = async (p: number): Promise<number> => {
        for (;;) {
          try {
            return await highWatermark(consumer, o.topic, p, 5000);
          } catch {
            if (Date.now() >= lookupUntil) return Number.POSITIVE_INFINITY;
            await new Promise((r) => setTimeout(r, 200));
          }
        }
      };
      mirror.endOffsets = await Promise.all(Array.from({ length: mirror.partitions }, (_, p) => endOf(p)));
      mirror.endOffsets.forEach((end, p) => end === 0 && mirror.atEnd.add(p));
      const caughtUp = new Promise<void>((resolve, reject) => ((mirror.onCaughtUp = resolve), (mirror.onFetchFailed = reject)));
      // EOF events come inside a consume() call, before its batch is applied; run() checks after applying.
      consumer.on('partition.eof', (e: { partition: number }) => void mirror.atEnd.add(e.partition));
      consumer.setDefaultConsumeTimeout(o.consumeTimeoutMs ?? 200);
      consumer.assign(Array.from({ length: mirror.partitions }, (_, partition) => ({ topic: o.topic, partition, offset: -2 /* beginning */ })));
      mirror.loop = mirror.run();
      mirror.endOffsets.forEach((end, p) => end === Number.POSITIVE_INFINITY && void mirror.learnEnd(p));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `reading ${o.topic} at ${o.brokers} did not reach its end within ${o.catchUpTimeoutMs / 1000} s (${mirror.atEnd.size} of ${mirror.partitions} partitions read)`,
              ),
            ),
          o.catchUpTimeoutMs,
        );
      });
      await Promise.race([caughtUp, timedOut, mirror.loop.then(() => Promise.reject(new Error(`reading ${o.topic} stopped`)))]).finally(() =>
        clearTimeout(timer),
      );
      if (!o.follow) await mirror.close();
      return mirror;
    } catch (err) {
      await mirror.close();
      throw err;
    }
  }

  /** Whether every partition has been read to its end once. */
  get caughtUp(): boolean {
    return this.partitions > 0 && this.atEnd.size >= this.partitions;
  }

  get partitionCount(): number {
    return this.partitions;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let failed: Error | undefined;
      const batch = await consumeOrRetry(this.consumer, this.o.batchSize ?? 500, {
        running: () => this.running,
        retryMs: 1000,
        onError: (err) => {
          if (!this.caughtUp && this.o.fetchErrorBeforeCaughtUp === 'fail') failed = err;
          else this.o.log?.(`reading ${this.o.topic} failed, retrying: ${err.message}`);
        },
      });
      if (failed) return this.onFetchFailed(new Error(`reading ${this.o.topic} failed: ${failed.message}`));
      for (const m of batch) await this.apply(m);
      if (this.caughtUp) {
        this.onCaughtUp();
        if (!this.o.follow) return;
      }
    }
  }

  /**
   * Goes on looking up where partition p ends after open() started reading without it: on a loaded
   * machine a new client's lookups failed for over half the catch-up time, and left to its
   * end-of-partition event a partition a writer keeps appending to never ended (open() timed out in CI).
   */
  private async learnEnd(p: number): Promise<void> {
    while (this.running && !this.atEnd.has(p)) {
      try {
        const end = await highWatermark(this.consumer, this.o.topic, p, 5000);
        this.endOffsets[p] = end;
        if ((this.nextOffsets[p] ?? 0) >= end) {
          this.atEnd.add(p);
          if (this.caughtUp) this.onCaughtUp();
        }
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  private async apply(m: Message): Promise<void> {
    this.nextOffsets[m.partition] = m.offset + 1;
    if (m.offset + 1 >= (this.endOffsets[m.partition] ?? Infinity)) this.atEnd.add(m.partition);
    const key = m.key === undefined || m.key === null ? undefined : Buffer.isBuffer(m.key) ? m.key.toString('utf8') : String(m.key);
    if (key === undefined || key === '') {
      this.o.onKeyless?.(m);
      return;
    }
    try {
      await this.o.apply(key, m.value && m.value.length > 0 ? m.value : null, m);
    } catch (err) {
      this.undecodable++;
      this.o.log?.(`${m.topic}[${m.partition}]@${m.offset}: undecodable record skipped: ${asError(err).message}`);
    }
  }

  async close(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.loop?.catch(() => {});
    await disconnect(this.consumer).catch(() => {});
  }
}
