// The transactional producer of a processor member (Kafka Streams' StreamsProducer):
// a transaction carries the outputs, the stores' pending writes as changelog
// records and the consumed offsets; it commits or aborts together with the stores'
// pending writes. A fenced producer or a fatal librdkafka error stops the member.
import Kafka from 'node-rdkafka';
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
  initTransactions,
  sendOffsetsToTransaction,
  type Consumer,
  type Producer,
  type TopicPartitionOffset,
} from './rdkafkaPromises.ts';

export class ExactlyOnceProducer<V> {
  private readonly producer: Producer;

  constructor(
    private readonly opts: ResolvedProcessorOptions<V>,
    /** The input consumer: its group metadata fences the offsets sent to a transaction (KIP-447). */
    private readonly consumer: Consumer,
    private readonly stores: ReadonlyMap<number, PartitionStore<V>>,
    private readonly stats: ProcessorStats,
  ) {
    const id = { brokers: opts.brokers, clientId: opts.clientId };
    this.producer = new Kafka.Producer(
      transactionalProducerConfig(id, opts.transactionalId, { 'transaction.timeout.ms': opts.transactionTimeoutMs, ...opts.producerConfig }),
      producerTopicConfig,
    );
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
    return sendOffsetsToTransaction(this.producer, offsets, this.consumer, this.opts.transactionTimeoutMs);
  }

  /** Commits the transaction; then the stores' pending writes become their state. */
  async commit(outputs: number): Promise<void> {
    await commitTransaction(this.producer, this.opts.transactionTimeoutMs);
    this.afterCommit(outputs);
  }

  abort(): Promise<void> {
    return abortTransaction(this.producer, this.opts.transactionTimeoutMs);
  }

  /** Output records, then the stores' pending writes as changelog records on their own partition. */
  produceAll(outputs: OutputRecord[]): void {
    for (const o of outputs) {
      this.producer.produce(o.topic, null, o.value, o.key === null ? null : Buffer.from(o.key), o.timestamp ?? Date.now());
    }
    const spec = this.opts.store;
    if (!spec) return;
    for (const st of this.stores.values()) {
      // Explicit partition: changelog partition p is input partition p, whatever the partitioner.
      for (const [k, v] of st.pending())
        this.producer.produce(spec.changelogTopic, st.partition, v === null ? null : spec.encode(v), Buffer.from(k), Date.now());
    }
  }

  /**
   * A hook's outputs and store writes in one transaction (skipped when it has none).
   * A non-fatal failure is logged and its writes discarded: for a handover the next
   * owner then finds the state as it was (as after a crash).
   */
  async hookTransaction(what: string, hook: () => Promise<OutputRecord[]> | OutputRecord[], offsets: TopicPartitionOffset[] = []): Promise<void> {
    let open = false;
    try {
      const outputs = await hook();
      if (outputs.length === 0 && ![...this.stores.values()].some((st) => st.hasPending)) return;
      await this.begin();
      open = true;
      this.produceAll(outputs);
      if (offsets.length > 0) await this.sendOffsets(offsets);
      await this.commit(outputs.length);
    } catch (err) {
      const e = asError(err);
      this.stats.lastError = `${what}: ${e.message}`;
      this.opts.log?.(`${what} failed: ${e.message}`);
      this.afterFailure(err, e);
      if (open) {
        this.stats.aborts += 1;
        await this.abort().catch(() => {});
      }
    }
  }

  /** A transaction committed: the stores' pending writes become their state. */
  private afterCommit(outputs: number): void {
    for (const st of this.stores.values()) st.commit();
    this.stats.outputs += outputs;
    this.stats.transactions += 1;
  }

  /** A transaction failed: the stores drop their pending writes; a fatal failure throws, the processor must stop. */
  afterFailure(err: unknown, e: Error): void {
    this.discardWrites();
    const fatal = this.fatalError(err, e);
    if (fatal) throw fatal;
  }

  /** The stores drop their pending writes (indexes built on them are stale). */
  discardWrites(): void {
    for (const st of this.stores.values()) st.rollback();
    this.opts.onAborted?.();
  }

  /** The error that stops the processor when a failure is fatal (librdkafka says so, or this producer is fenced); undefined when aborting is enough. */
  fatalError(err: unknown, e: Error): Error | undefined {
    if ((err as { isFatal?: boolean }).isFatal === true || /fenced/i.test(e.message))
      return new Error(`transactional processor ${this.opts.transactionalId} must stop: ${e.message}`);
    return undefined;
  }

  disconnect(): Promise<void> {
    return disconnect(this.producer);
  }
}
