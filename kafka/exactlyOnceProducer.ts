// The transactional producer of a processor member (Kafka Streams' StreamsProducer):
// a transaction carries the outputs, the stores' pending writes as changelog
// records and the consumed offsets; it commits or aborts together with the stores'
// pending writes. A fenced producer or a fatal librdkafka error is a
// ProducerFatalError: the loop replaces the producer (renew) and restores its
// partitions in place, a bounded number of times, else stops (processorLoop.ts).
//
// Every transaction carries input offsets (sendOffsets), checked by the group
// coordinator against the member's generation (KIP-447): a member that left the
// group (a zombie) cannot commit anything, hooks and timers included. A commit or
// sendOffsets that times out is retried (librdkafka goes on in the background; the
// commit may land), never aborted. A full producer queue waits for the records
// already sent to be acknowledged, so a large fan-out commits in one transaction.
import Kafka from 'node-rdkafka';
import { setTimeout as sleep } from 'node:timers/promises';
import { producerTopicConfig, transactionalProducerConfig } from './rdkafkaConfig.ts';
import type { PartitionStore } from './partitionStore.ts';
import type { OutputRecord, ProcessorStats, ResolvedProcessorOptions } from './processorTypes.ts';
import {
  abortTransaction,
  asError,
  beginTransaction,
  commitTransaction,
  connectProducer,
  disconnect,
  flush,
  initTransactions,
  sendOffsetsToTransaction,
  type Consumer,
  type Producer,
  type TopicPartitionOffset,
} from './rdkafkaPromises.ts';
import { kafkaClientStatsInterval } from './clientStats.ts';
import { routeClientLog } from './clientLog.ts';
import type { ChangelogOffsets } from './changelogOffsets.ts';

const { CODES } = Kafka;

/** The group coordinator's answers to a member no longer in the group's generation: its assignment is lost. */
const NOT_IN_GENERATION = new Set<number>([
  CODES.ERRORS.ERR_ILLEGAL_GENERATION,
  CODES.ERRORS.ERR_UNKNOWN_MEMBER_ID,
  CODES.ERRORS.ERR_FENCED_INSTANCE_ID,
  CODES.ERRORS.ERR_FENCED_MEMBER_EPOCH,
  CODES.ERRORS.ERR_STALE_MEMBER_EPOCH,
]);

/** Whether a transaction failed because this member left the group's generation (node-rdkafka does not expose rd_kafka_assignment_lost). */
export function lostAssignment(err: unknown): boolean {
  const e = err as { code?: number; message?: string };
  return (typeof e?.code === 'number' && NOT_IN_GENERATION.has(e.code)) || /generation|member id|member epoch|fenced instance/i.test(e?.message ?? '');
}

/** Attempts of a commit/sendOffsets that keeps timing out before the member stops (its outcome is then unknown). */
const MAX_RETRIES = 5;

/** The producer is fenced or failed for good: only a new producer (and state restored from the changelogs) goes on. */
export class ProducerFatalError extends Error {}

/** How a hook's transaction ended: `lost` when the group no longer counts this member in (nothing was written). */
export type HookOutcome = 'committed' | 'empty' | 'failed' | 'lost';

export class ExactlyOnceProducer<V> {
  private producer: Producer;
  /** Set by the processor loop: when a retried abort must stop (the member is stopping, or past its outage limit). */
  giveUpAbort: () => boolean = () => false;

  constructor(
    private readonly opts: ResolvedProcessorOptions<V>,
    /** The input consumer: its group metadata fences the offsets sent to a transaction (KIP-447). */
    private readonly consumer: Consumer,
    private readonly stores: ReadonlyMap<number, PartitionStore<V>>,
    private readonly stats: ProcessorStats,
    /** With state checkpoints: the committed changelog offsets, from delivery reports (changelogOffsets.ts). */
    private readonly changelogOffsets?: ChangelogOffsets,
  ) {
    this.producer = this.create();
  }

  private create(): Producer {
    const { opts, changelogOffsets } = this;
    const id = { brokers: opts.brokers, clientId: opts.clientId };
    const producer = new Kafka.Producer(
      transactionalProducerConfig(id, opts.transactionalId, { 'transaction.timeout.ms': opts.transactionTimeoutMs, ...opts.producerConfig }),
      producerTopicConfig,
    );
    routeClientLog(producer, id.clientId);
    const changelog = opts.store?.changelogTopic;
    if (changelogOffsets && changelog)
      producer.on('delivery-report', (err, report) => {
        if (report?.topic === changelog) changelogOffsets.reported(report.partition, report.offset, !err);
      });
    // A producer serves its callbacks (statistics among them) only when polled, and this one is
    // polled only while it commits: an idle member's statistics would be missing or stale.
    const every = kafkaClientStatsInterval();
    if (every > 0) producer.setPollInterval(Math.min(every, 1000));
    return producer;
  }

  /**
   * Replaces a fenced or failed producer by a new one of the same transactional id:
   * initTransactions aborts whatever the old one left open (and fences any other
   * producer of the id). The stores' pending writes must be dropped first.
   */
  async renew(): Promise<void> {
    const old = this.producer;
    old.setPollInterval(0);
    await disconnect(old).catch(() => {});
    this.producer = this.create();
    await this.connect();
  }

  /** Connects and fences older producers of the same transactional id. */
  async connect(): Promise<void> {
    await connectProducer(this.producer);
    await initTransactions(this.producer, this.opts.transactionTimeoutMs);
  }

  begin(): Promise<void> {
    return beginTransaction(this.producer);
  }

  sendOffsets(offsets: TopicPartitionOffset[]): Promise<void> {
    return this.retrying('sending offsets', () => sendOffsetsToTransaction(this.producer, offsets, this.consumer, this.opts.transactionTimeoutMs));
  }

  /** Commits the transaction; then the stores' pending writes become their state. */
  async commit(outputs: number): Promise<void> {
    const start = process.hrtime.bigint();
    await this.retrying('committing', () => commitTransaction(this.producer, this.opts.transactionTimeoutMs));
    this.stats.commitLatency.observe(Number(process.hrtime.bigint() - start) / 1e9);
    this.afterCommit(outputs);
  }

  /**
   * librdkafka: a retriable error (a timeout) of commitTransaction/sendOffsets must be
   * retried, the operation goes on in the background. Aborting instead would roll
   * the stores back under a commit that may have landed. Still failing after
   * MAX_RETRIES attempts: the outcome is unknown, the member stops (a restart
   * restores from the changelog, which is what was committed).
   */
  private async retrying(what: string, call: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        const f = err as { isRetriable?: boolean; isTxnRequiresAbort?: boolean; isFatal?: boolean };
        if (f.isRetriable !== true || f.isTxnRequiresAbort === true || f.isFatal === true) throw err;
        const message = asError(err).message;
        if (attempt >= MAX_RETRIES)
          throw Object.assign(new Error(`${what} the transaction still failed after ${attempt} attempts, its outcome is unknown: ${message}`), {
            isFatal: true,
          });
        this.opts.log?.(`${what} the transaction: ${message}; retrying (attempt ${attempt + 1})`);
        await sleep(100 * attempt);
      }
    }
  }

  /**
   * Aborts the open transaction. librdkafka: a retriable failure of abortTransaction (a
   * timeout while the broker or its transaction coordinator comes back) must be retried;
   * until an abort succeeds the producer accepts no new transaction (ERR__STATE), so
   * giving up here would leave a member that fails every batch. Retries until it
   * succeeds, the error is not retriable, or `giveUp()` says so (stopping, or past the
   * outage limit); then throws.
   */
  abort(giveUp: () => boolean = () => false): Promise<void> {
    return abortRetrying(
      () => abortTransaction(this.producer, this.opts.transactionTimeoutMs),
      giveUp,
      (line) => this.opts.log?.(line),
    );
  }

  /** Output records, then the stores' pending writes as changelog records on their own partition. */
  async produceAll(outputs: OutputRecord[]): Promise<void> {
    for (const o of outputs) await this.produce(o.topic, null, o.value, o.key === null ? null : Buffer.from(o.key), o.timestamp ?? Date.now());
    const spec = this.opts.store;
    if (!spec) return;
    for (const st of this.stores.values()) {
      // Explicit partition: changelog partition p is input partition p, whatever the partitioner.
      // Encoded once: a compact store commits these same bytes.
      for (const [k, bytes] of st.pendingEncoded(spec.encode)) {
        await this.produce(spec.changelogTopic, st.partition, bytes, Buffer.from(k), Date.now());
        this.changelogOffsets?.produced(st.partition);
      }
    }
  }

  /**
   * One record into the open transaction. A full queue (QUEUE_FULL) is not a failure
   * of the batch: the records queued before it are flushed to the brokers (they are
   * part of the transaction already, invisible to read_committed readers until it
   * commits), then the record is queued again. So a transaction may hold more
   * records than the queue; it is bounded by transaction.timeout.ms instead.
   */
  private async produce(topic: string, partition: number | null, value: Buffer | null, key: Buffer | null, timestamp: number): Promise<void> {
    const deadline = Date.now() + this.opts.transactionTimeoutMs;
    for (;;) {
      try {
        this.producer.produce(topic, partition, value, key, timestamp);
        return;
      } catch (err) {
        if ((err as { code?: number }).code !== CODES.ERRORS.ERR__QUEUE_FULL || Date.now() > deadline) throw err;
        await flush(this.producer, 1000).catch(() => {});
      }
    }
  }

  /**
   * A hook's outputs and store writes in one transaction with `offsets` (the owned
   * partitions' committed offsets: they fence it by the group generation). Without
   * `fenceFirst` the hook runs first and an empty result skips the transaction (a
   * timer tick with nothing due); with it the offsets go first, so a member that lost
   * its assignment never runs the hook (a handover). A non-fatal failure is logged and
   * its writes discarded: for a handover the next owner then finds the state as it
   * was (as after a crash).
   */
  async hookTransaction(
    what: string,
    hook: () => Promise<OutputRecord[]> | OutputRecord[],
    offsets: TopicPartitionOffset[],
    fenceFirst = false,
  ): Promise<HookOutcome> {
    let open = false;
    try {
      let outputs: OutputRecord[] | undefined;
      if (!fenceFirst) {
        outputs = await hook();
        if (outputs.length === 0 && ![...this.stores.values()].some((st) => st.hasPending)) return 'empty';
      }
      await this.begin();
      open = true;
      if (offsets.length > 0) await this.sendOffsets(offsets);
      outputs ??= await hook();
      await this.produceAll(outputs);
      await this.commit(outputs.length);
      return 'committed';
    } catch (err) {
      const e = asError(err);
      this.stats.lastError = `${what}: ${e.message}`;
      this.opts.log?.(`${what} failed: ${e.message}`);
      this.afterFailure(err, e);
      if (open) {
        this.stats.aborts += 1;
        // A producer that could not abort takes no further transaction: stop rather than fail every one after.
        await this.abort(this.giveUpAbort).catch((ae: unknown) => {
          // A producer failed for good while aborting is replaced like any other; one that merely could not abort stops the member.
          const Failure = (ae as { isFatal?: boolean }).isFatal === true ? ProducerFatalError : Error;
          throw new Failure(`transactional processor ${this.opts.transactionalId} must stop: abort failed after "${e.message}": ${asError(ae).message}`, {
            cause: ae,
          });
        });
      }
      return lostAssignment(err) ? 'lost' : 'failed';
    }
  }

  /** A transaction committed: the stores' pending writes become their state. */
  private afterCommit(outputs: number): void {
    for (const st of this.stores.values()) st.commit();
    this.changelogOffsets?.settle(true);
    this.stats.outputs += outputs;
    this.stats.transactions += 1;
  }

  /** A transaction failed: the stores drop their pending writes; a fatal failure throws (a ProducerFatalError). */
  afterFailure(err: unknown, e: Error): void {
    this.discardWrites();
    const fatal = this.fatalError(err, e);
    if (fatal) throw fatal;
  }

  /** The stores drop their pending writes (indexes built on them are stale). */
  discardWrites(): void {
    for (const st of this.stores.values()) st.rollback();
    this.changelogOffsets?.settle(false);
    this.opts.onAborted?.();
  }

  /** The error that stops the processor when a failure is fatal (librdkafka says so, or this producer is fenced); undefined when aborting is enough. */
  fatalError(err: unknown, e: Error): Error | undefined {
    const code = (err as { code?: number }).code;
    const producerFenced = code === CODES.ERRORS.ERR__FENCED || code === CODES.ERRORS.ERR_PRODUCER_FENCED;
    // A member fenced out of the GROUP (lostAssignment) only loses its partitions; a fenced PRODUCER must stop.
    if ((err as { isFatal?: boolean }).isFatal === true || producerFenced || (!lostAssignment(err) && /fenced/i.test(e.message)))
      return new ProducerFatalError(`the producer of transactional processor ${this.opts.transactionalId} is fenced or failed: ${e.message}`, { cause: err });
    return undefined;
  }

  disconnect(): Promise<void> {
    this.producer.setPollInterval(0);
    return disconnect(this.producer);
  }
}

/** Backoff between abort attempts: from 250 ms, doubling, at most 5 s. */
const ABORT_BACKOFF_MS = { first: 250, max: 5000 };

/** Calls `abort` until it succeeds; retries only errors librdkafka marks retriable (not fatal), while `giveUp()` is false. */
export async function abortRetrying(
  abort: () => Promise<void>,
  giveUp: () => boolean,
  log: (line: string) => void,
  wait: (ms: number) => Promise<unknown> = sleep,
): Promise<void> {
  for (let attempt = 1, delay = ABORT_BACKOFF_MS.first; ; attempt++, delay = Math.min(delay * 2, ABORT_BACKOFF_MS.max)) {
    try {
      return await abort();
    } catch (err) {
      const f = err as { isRetriable?: boolean; isFatal?: boolean };
      if (f.isRetriable !== true || f.isFatal === true || giveUp()) throw err;
      log(`aborting the transaction: ${asError(err).message}; retrying in ${delay} ms (attempt ${attempt + 1})`);
      await wait(delay);
    }
  }
}
