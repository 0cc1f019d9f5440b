// Restores a partition's state store from its compacted changelog topic
// before processing of that partition resumes: read_committed, from the
// beginning to the end (librdkafka's partition EOF, which read_committed
// places at the last stable offset).
import Kafka from 'node-rdkafka';
import { asError, connectConsumer, consumeBatch, disconnect, watermarks, type Consumer } from './rdkafkaPromises.ts';
import type { PartitionStore } from './partitionStore.ts';
import { rdkafkaSecurity } from './kafkaSecurity.ts';
import { routeClientLog } from './clientLog.ts';

/** librdkafka's RD_KAFKA_OFFSET_BEGINNING: a compacted log may not start at 0. */
const OFFSET_BEGINNING = -2;
/** A restore still running after this long says how far it is, then again at this interval. */
const PROGRESS_EVERY_MS = 5000;

export interface RestoreResult {
  partition: number;
  /** Changelog records read (from the checkpoint's offset on when there was one). */
  records: number;
  keys: number;
  ms: number;
  /** Where the read stopped (the log's stable end when it began): the store holds every record before it. */
  endOffset: number;
  /** Entries loaded from a local checkpoint before the tail was read (0: a full restore). */
  checkpointEntries?: number;
}

/** How far one partition's restore is: records read of the offsets to read (an upper bound; 0 while not known). */
export interface RestoreProgress {
  partition: number;
  records: number;
  toRead: number;
  startedAt: number;
}

export class ChangelogRestorer<V> {
  private consumer: Consumer | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  /** Partitions being read now, for progress(); replaced per pass. */
  private reading = new Map<number, RestoreProgress>();

  constructor(
    private readonly brokers: string,
    private readonly changelogTopic: string,
    private readonly decode: (value: Buffer) => V | Promise<V>,
    /** Progress of long restores (records of the offsets to read, rate, time left). */
    private readonly log?: (line: string) => void,
    /**
     * The processor's consumer group: the restorer's own group id starts with it. librdkafka's consumer
     * needs one and asks for its coordinator, which an authorizer checks, so it falls under the role's
     * group ACL (a prefix pattern, kafka/strimziResources.ts); it is never joined nor committed to.
     */
    private readonly groupId = 'presence',
  ) {}

  /** Set by close(): a restore step arriving later (a task that outlived its member's stop) must not open a consumer no one closes. */
  private closed = false;

  /** One connect at a time: callers outside the restore chain (watermarks()) run concurrently, and a second consumer would never be closed (the process would not exit). */
  private connecting: Promise<Consumer> | undefined;

  private client(): Promise<Consumer> {
    if (this.consumer) return Promise.resolve(this.consumer);
    if (this.closed) return Promise.reject(new Error(`the restorer of ${this.changelogTopic} is closed`));
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<Consumer> {
    const c = new Kafka.KafkaConsumer(
      {
        'metadata.broker.list': this.brokers,
        ...rdkafkaSecurity(),
        // Never joins nor commits: the group id only satisfies the client.
        'group.id': `${this.groupId}.restorer-${process.pid}-${Date.now()}`,
        'enable.auto.commit': false,
        'isolation.level': 'read_committed',
        'enable.partition.eof': true,
        'fetch.max.bytes': 52_428_800,
        // The end of a partition is reported after an empty fetch, which waits this long (500 ms by default): a checkpoint's short tail would wait mostly for that.
        'fetch.wait.max.ms': 20,
      },
      { 'auto.offset.reset': 'earliest' },
    );
    routeClientLog(c, `restorer-${this.changelogTopic}`);
    await connectConsumer(c);
    c.setDefaultConsumeTimeout(100);
    this.consumer = c;
    return c;
  }

  /**
   * Restores partitions' stores. Requests that arrive while a restore runs
   * are batched into the next one, so a rebalance that assigns twelve
   * partitions reads their changelogs in one pass, not twelve.
   */
  restore(store: PartitionStore<V>, fromOffset?: number): Promise<RestoreResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ store, fromOffset, resolve, reject });
      if (this.queue.length === 1) this.chain = this.chain.then(() => this.drainQueue());
    });
  }

  private readonly queue: Array<{ store: PartitionStore<V>; fromOffset: number | undefined; resolve: (r: RestoreResult) => void; reject: (e: Error) => void }> =
    [];

  private async drainQueue(): Promise<void> {
    const jobs = this.queue.splice(0);
    if (jobs.length === 0) return;
    try {
      const results = await this.restoreNow(
        jobs.map((j) => j.store),
        new Map(jobs.map((j) => [j.store.partition, j.fromOffset])),
      );
      jobs.forEach((j, i) => j.resolve(results[i]!));
    } catch (err) {
      for (const j of jobs) j.reject(asError(err));
    }
  }

  /** The log start and end of a changelog partition (a checkpoint is checked against them). */
  async watermarks(partition: number): Promise<{ low: number; high: number }> {
    return watermarks(await this.client(), this.changelogTopic, partition);
  }

  /** `from`: per partition, the offset to read from (after a checkpoint); absent: the log's beginning. */
  private async restoreNow(stores: PartitionStore<V>[], from: Map<number, number | undefined>): Promise<RestoreResult[]> {
    const started = Date.now();
    const c = await this.client();
    const byPartition = new Map(stores.map((st) => [st.partition, st]));
    const open = new Set(byPartition.keys());
    const records = new Map<number, number>([...open].map((p) => [p, 0]));
    const ends = new Map<number, number>();
    const onEof = (e: { topic: string; partition: number; offset: number }) => {
      if (e.topic !== this.changelogTopic || !open.has(e.partition)) return;
      open.delete(e.partition);
      ends.set(e.partition, e.offset);
    };
    c.on('partition.eof', onEof);
    const reading = new Map([...open].map((partition) => [partition, { partition, records: 0, toRead: 0, startedAt: started }]));
    this.reading = reading;
    // Offsets to read: an upper bound on records (compaction leaves gaps, transactions leave markers).
    let toRead = 0;
    for (const p of open) {
      const w = await watermarks(c, this.changelogTopic, p).catch(() => ({ low: 0, high: 0 }));
      const n = w.high - Math.max(w.low, from.get(p) ?? 0);
      reading.get(p)!.toRead = n;
      toRead += n;
    }
    let nextReport = started + PROGRESS_EVERY_MS;
    c.assign([...open].map((partition) => ({ topic: this.changelogTopic, partition, offset: from.get(partition) ?? OFFSET_BEGINNING })));
    try {
      while (open.size > 0) {
        if (this.log && Date.now() >= nextReport) {
          nextReport += PROGRESS_EVERY_MS;
          this.log(
            restoreProgress(
              this.changelogTopic,
              [...byPartition.keys()],
              [...records.values()].reduce((a, b) => a + b, 0),
              toRead,
              Date.now() - started,
            ),
          );
        }
        const batch = await consumeBatch(c, 5000).catch((e) => {
          throw new Error(`restoring ${this.changelogTopic} failed: ${asError(e).message}`);
        });
        for (const m of batch) {
          const st = byPartition.get(m.partition);
          if (!st || !m.key) continue;
          records.set(m.partition, (records.get(m.partition) ?? 0) + 1);
          const r = reading.get(m.partition);
          if (r) r.records++;
          // Bytes in the store's own encoding are kept as they are (no decode); older ones go through decode.
          if (m.value && st.acceptsEncoded(m.value)) st.restoreEncoded(m.key.toString('utf8'), m.value);
          else st.restore(m.key.toString('utf8'), m.value ? await this.decode(m.value) : null);
        }
      }
    } finally {
      c.removeListener('partition.eof', onEof);
      c.unassign();
      if (this.reading === reading) this.reading = new Map();
    }
    const ms = Date.now() - started;
    return stores.map((st) => ({
      partition: st.partition,
      records: records.get(st.partition) ?? 0,
      keys: st.size,
      ms,
      endOffset: ends.get(st.partition) ?? 0,
    }));
  }

  /** The partitions being read now and how far each is (a copy); queued ones are not listed yet. */
  progress(): RestoreProgress[] {
    return [...this.reading.values()].map((r) => ({ ...r }));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.chain.catch(() => {});
    await this.connecting?.catch(() => {});
    if (this.consumer) await disconnect(this.consumer);
    this.consumer = undefined;
  }
}

/** "restoring T partitions 0,1: 120,000 of ≤1,000,000 records (12%), 40,000/s, ~22 s left". */
export function restoreProgress(topic: string, partitions: number[], done: number, toRead: number, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  const share = toRead > 0 ? Math.min(1, done / toRead) : undefined;
  const left = share !== undefined && rate > 0 ? `, ~${Math.ceil((toRead - Math.min(done, toRead)) / rate)} s left` : '';
  return (
    `restoring ${topic} partitions ${partitions.join(',')}: ${done.toLocaleString('en')} of ≤${toRead.toLocaleString('en')} records` +
    `${share !== undefined ? ` (${Math.round(share * 100)}%)` : ''}, ${Math.round(rate).toLocaleString('en')}/s${left}`
  );
}
