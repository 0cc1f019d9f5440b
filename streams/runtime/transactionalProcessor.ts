// Consume → process → produce, exactly once (Kafka Streams' model on
// node-rdkafka): each batch's output records and its input offsets commit in
// one transaction, fenced by the consumer group's generation (KIP-447). A
// failed batch is aborted and re-read from its first offsets, so downstream
// read_committed consumers see every input's output exactly once.
import Kafka from 'node-rdkafka';
import { consumerConfig, consumerTopicConfig, transactionalProducerConfig, type GroupOptions } from './rdkafkaConfig.ts';
import {
  abortTransaction,
  asError,
  beginTransaction,
  commitTransaction,
  connectConsumer,
  connectProducer,
  consumeBatch,
  disconnect,
  initTransactions,
  seek,
  sendOffsetsToTransaction,
  type Consumer,
  type Message,
  type Producer,
  type TopicPartitionOffset,
} from './rdkafkaPromises.ts';

export interface InputRecord {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: Buffer | null;
  timestamp: number | undefined;
}

export interface OutputRecord {
  topic: string;
  key: string | null;
  value: Buffer | null;
  timestamp?: number;
}

export interface TransactionalProcessorOptions extends GroupOptions {
  brokers: string;
  clientId: string;
  inputTopics: string[];
  /** Unique per member (a restarted member reuses its id so zombies are fenced). */
  transactionalId: string;
  process: (batch: InputRecord[]) => Promise<OutputRecord[]> | OutputRecord[];
  maxBatch?: number;
  transactionTimeoutMs?: number;
  /** Called with partitions newly assigned / about to be revoked (state restore hooks). */
  onAssigned?: (partitions: Kafka.TopicPartition[]) => void;
  onRevoked?: (partitions: Kafka.TopicPartition[]) => void;
  log?: (line: string) => void;
}

export interface ProcessorStats {
  records: number;
  outputs: number;
  transactions: number;
  aborts: number;
  lastError?: string;
}

const { CODES } = Kafka;

export class TransactionalProcessor {
  readonly stats: ProcessorStats = { records: 0, outputs: 0, transactions: 0, aborts: 0 };
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly opts: Required<Pick<TransactionalProcessorOptions, 'maxBatch' | 'transactionTimeoutMs'>> & TransactionalProcessorOptions;

  constructor(opts: TransactionalProcessorOptions) {
    this.opts = { maxBatch: 500, transactionTimeoutMs: 30_000, ...opts };
    const id = { brokers: opts.brokers, clientId: opts.clientId };
    const self = this;
    this.consumer = new Kafka.KafkaConsumer(
      {
        ...consumerConfig(id, opts),
        rebalance_cb(this: Consumer, err: Kafka.LibrdKafkaError, assignment: Kafka.Assignment[]) {
          self.rebalance(this, err, assignment);
        },
      },
      consumerTopicConfig,
    );
    this.producer = new Kafka.Producer(transactionalProducerConfig(id, opts.transactionalId, { 'transaction.timeout.ms': this.opts.transactionTimeoutMs }));
  }

  private rebalance(consumer: Consumer, err: Kafka.LibrdKafkaError, assignment: Kafka.Assignment[]): void {
    const cooperative = consumer.rebalanceProtocol() === 'COOPERATIVE';
    try {
      if (err.code === CODES.ERRORS.ERR__ASSIGN_PARTITIONS) {
        this.opts.log?.(`assigned ${assignment.map((a) => `${a.topic}[${a.partition}]`).join(' ') || '(none)'}`);
        if (cooperative) consumer.incrementalAssign(assignment);
        else consumer.assign(assignment);
        this.opts.onAssigned?.(assignment);
      } else if (err.code === CODES.ERRORS.ERR__REVOKE_PARTITIONS) {
        this.opts.log?.(`revoked ${assignment.map((a) => `${a.topic}[${a.partition}]`).join(' ') || '(none)'}`);
        this.opts.onRevoked?.(assignment);
        if (cooperative) consumer.incrementalUnassign(assignment);
        else consumer.unassign();
      }
    } catch (e) {
      this.opts.log?.(`rebalance handling failed: ${asError(e).message}`);
    }
  }

  async start(): Promise<void> {
    try {
      await connectProducer(this.producer);
      await initTransactions(this.producer, this.opts.transactionTimeoutMs);
      await connectConsumer(this.consumer);
    } catch (err) {
      throw new Error(`${this.opts.clientId} could not start against Kafka at ${this.opts.brokers}: ${asError(err).message}`);
    }
    this.consumer.subscribe(this.opts.inputTopics);
    this.running = true;
    this.loop = this.runLoop();
  }

  /** Resolves when the loop ends; rejects with the fatal error that ended it. */
  done(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  private async runLoop(): Promise<void> {
    try {
      while (this.running) {
        const messages = await consumeBatch(this.consumer, this.opts.maxBatch);
        if (messages.length === 0) continue;
        await this.processBatch(messages);
      }
    } finally {
      this.running = false;
    }
  }

  private async processBatch(messages: Message[]): Promise<void> {
    const batch: InputRecord[] = messages.map((m) => ({
      topic: m.topic,
      partition: m.partition,
      offset: m.offset,
      key: m.key === undefined || m.key === null ? null : Buffer.isBuffer(m.key) ? m.key.toString('utf8') : String(m.key),
      value: m.value ?? null,
      timestamp: m.timestamp,
    }));
    // First and next offsets per partition: where to rewind on abort, what to commit on success.
    const first = new Map<string, TopicPartitionOffset>();
    const next = new Map<string, TopicPartitionOffset>();
    for (const r of batch) {
      const k = `${r.topic}\u0000${r.partition}`;
      if (!first.has(k)) first.set(k, { topic: r.topic, partition: r.partition, offset: r.offset });
      next.set(k, { topic: r.topic, partition: r.partition, offset: r.offset + 1 });
    }
    try {
      await beginTransaction(this.producer);
      const outputs = await this.opts.process(batch);
      for (const o of outputs) {
        this.producer.produce(o.topic, null, o.value, o.key === null ? null : Buffer.from(o.key), o.timestamp ?? Date.now());
      }
      await sendOffsetsToTransaction(this.producer, [...next.values()], this.consumer, this.opts.transactionTimeoutMs);
      await commitTransaction(this.producer, this.opts.transactionTimeoutMs);
      this.stats.records += batch.length;
      this.stats.outputs += outputs.length;
      this.stats.transactions += 1;
    } catch (err) {
      const e = asError(err);
      this.stats.lastError = e.message;
      const fatal = (err as { isFatal?: boolean }).isFatal === true || /fenced/i.test(e.message);
      if (fatal) throw new Error(`transactional processor ${this.opts.transactionalId} must stop: ${e.message}`);
      this.stats.aborts += 1;
      this.opts.log?.(`batch aborted, re-reading ${batch.length} records: ${e.message}`);
      await abortTransaction(this.producer, this.opts.transactionTimeoutMs).catch((ae) => {
        throw new Error(`abort failed after "${e.message}": ${asError(ae).message}`);
      });
      // Rewind so the aborted inputs are processed again (partitions revoked meanwhile are skipped).
      for (const tpo of first.values()) await seek(this.consumer, tpo).catch(() => {});
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop?.catch(() => {});
    await disconnect(this.consumer);
    await disconnect(this.producer);
  }
}
