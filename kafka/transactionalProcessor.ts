// Consume → process → produce, exactly once (Kafka Streams' model on
// node-rdkafka): each batch's output records and its input offsets commit in
// one transaction, fenced by the consumer group's generation (KIP-447). A
// failed batch is aborted and re-read from its first offsets, so downstream
// read_committed consumers see every input's output exactly once.
//
// Its roles, one per file: the loop (processorLoop.ts), partition ownership and
// rebalances (partitionOwnership.ts), store restores (restoreStateMachine.ts),
// the transactional producer (exactlyOnceProducer.ts) and timers (punctuator.ts).
import Kafka from 'node-rdkafka';
import { consumerConfig, consumerTopicConfig } from './rdkafkaConfig.ts';
import { ExactlyOnceProducer } from './exactlyOnceProducer.ts';
import { OwnedPartitions } from './ownedPartitions.ts';
import { PartitionOwnership } from './partitionOwnership.ts';
import { ProcessorLoop } from './processorLoop.ts';
import { Punctuator } from './punctuator.ts';
import { RestoreStateMachine } from './restoreStateMachine.ts';
import type { ProcessContext, ProcessorStats, ResolvedProcessorOptions, TransactionalProcessorOptions } from './processorTypes.ts';
import { asError, connectConsumer, disconnect, type Consumer } from './rdkafkaPromises.ts';

export type { InputRecord, OutputRecord, StoreSpec, ProcessContext, TransactionalProcessorOptions, ProcessorStats } from './processorTypes.ts';

export class TransactionalProcessor<V = never> {
  readonly stats: ProcessorStats = { records: 0, restores: 0, restoredRecords: 0, outputs: 0, transactions: 0, aborts: 0 };
  /** Store access for hooks outside a batch (e.g. rebuilding timer indexes after a restore). */
  readonly ctx: ProcessContext<V>;
  private readonly partitions: OwnedPartitions<V>;
  private readonly consumer: Consumer;
  private readonly producer: ExactlyOnceProducer<V>;
  private readonly restores: RestoreStateMachine<V> | undefined;
  private readonly ownership: PartitionOwnership<V>;
  private readonly loop: ProcessorLoop<V>;
  private readonly opts: ResolvedProcessorOptions<V>;

  constructor(opts: TransactionalProcessorOptions<V>) {
    this.opts = { maxBatch: 500, transactionTimeoutMs: 30_000, ...opts };
    this.partitions = new OwnedPartitions<V>(opts.clientId);
    this.ctx = this.partitions.ctx;
    const id = { brokers: opts.brokers, clientId: opts.clientId };
    // librdkafka calls rebalance_cb with the consumer as `this`.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    this.consumer = new Kafka.KafkaConsumer(
      {
        // Several input topics share one store per partition number, so their
        // partitions must be assigned together (co-partitioning).
        ...consumerConfig(id, { ...opts, copartitioned: opts.inputTopics.length > 1 }, opts.consumerConfig),
        rebalance_cb(this: Consumer, err: Kafka.LibrdKafkaError, assignment: Kafka.Assignment[]) {
          self.ownership.rebalance(this, err, assignment);
        },
      },
      consumerTopicConfig,
    );
    this.producer = new ExactlyOnceProducer(this.opts, this.consumer, this.partitions.stores, this.stats);
    const store = this.opts.store;
    if (store) this.restores = new RestoreStateMachine({ ...this.opts, store }, this.partitions, this.producer, this.stats);
    this.ownership = new PartitionOwnership(this.opts, this.partitions, this.restores, this.producer, this.consumer, () => this.loop.running);
    const punctuator = opts.punctuate ? new Punctuator(opts.punctuate, opts.punctuateIntervalMs ?? 1000, this.producer, this.ctx, this.stats) : undefined;
    this.loop = new ProcessorLoop(this.opts, this.consumer, this.producer, this.partitions, this.ownership, this.restores, punctuator, this.stats);
  }

  /** The topic partitions this member is assigned right now. */
  assignments(): Array<{ topic: string; partition: number }> {
    return this.consumer.assignments().map((a) => ({ topic: a.topic, partition: a.partition }));
  }

  /** Resolves when every assigned partition's store is restored. */
  async restored(): Promise<void> {
    await this.restores?.restored();
  }

  async start(): Promise<void> {
    try {
      await this.producer.connect();
      await connectConsumer(this.consumer);
    } catch (err) {
      throw new Error(`${this.opts.clientId} could not start against Kafka at ${this.opts.brokers}: ${asError(err).message}`, { cause: err });
    }
    // consume(n) waits this long for EACH missing record (there is no batch
    // deadline): a short wait ends a batch at the first lull, so steady
    // traffic cannot hold a batch open for seconds; under load batches still fill.
    this.consumer.setDefaultConsumeTimeout(10);
    this.consumer.subscribe(this.opts.inputTopics);
    this.loop.start();
  }

  /** Resolves when the loop ends; rejects with the fatal error that ended it. */
  done(): Promise<void> {
    return this.loop.done();
  }

  async stop(): Promise<void> {
    const { wasRunning, failed } = await this.loop.stop();
    // A clean stop is a handover too: its transaction commits before the consumer leaves.
    const parts = this.ctx.partitions();
    if (this.opts.onRevoking && wasRunning && !failed && parts.length > 0) {
      await this.producer
        .hookTransaction(`handing over partitions ${parts.join(',')} on stop`, () => this.opts.onRevoking!(parts, this.ctx))
        .catch((e) => this.opts.log?.(asError(e).message));
    }
    await disconnect(this.consumer);
    await this.producer.disconnect();
    await this.restores?.close();
  }
}
