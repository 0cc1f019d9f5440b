// Consume → process → produce, exactly once (Kafka Streams' model on
// node-rdkafka): each batch's output records and its input offsets commit in
// one transaction, fenced by the consumer group's generation (KIP-447). A
// failed batch is aborted and re-read from its first offsets, so downstream
// read_committed consumers see every input's output exactly once.
//
// Its roles, one per file: the loop (processorLoop.ts), partition ownership and
// rebalances (partitionOwnership.ts), store restores (restoreStateMachine.ts),
// the transactional producer (exactlyOnceProducer.ts) and timers (punctuator.ts);
// around them: co-partitioning checks (copartitioning.ts), static membership
// (staticMembership.ts) and the group's session timeout (groupSession.ts).
import Kafka from 'node-rdkafka';
import { consumerConfig, consumerTopicConfig } from './rdkafkaConfig.ts';
import { checkPartitionCounts, CopartitionGuard } from './copartitioning.ts';
import { applyGroupSession } from './groupSession.ts';
import { leaveForGood, takeOverInstance } from './staticMembership.ts';
import { ExactlyOnceProducer } from './exactlyOnceProducer.ts';
import { OwnedPartitions } from './ownedPartitions.ts';
import { PartitionOwnership } from './partitionOwnership.ts';
import type { ProcessorHealth } from './processorReadiness.ts';
import { watchGroupJoin } from './groupJoinWatch.ts';
import { ProcessorLoop } from './processorLoop.ts';
import { Punctuator } from './punctuator.ts';
import { RestoreStateMachine, type RestoreInFlight } from './restoreStateMachine.ts';
import type { ProcessContext, ProcessorStats, ResolvedProcessorOptions, TransactionalProcessorOptions } from './processorTypes.ts';
import { asError, connectConsumer, disconnect, type Consumer } from './rdkafkaPromises.ts';
import { LatencyHistogram } from '../protocols/http/latencyHistogram.ts';
import { routeClientLog } from './clientLog.ts';
import { ChangelogOffsets } from './changelogOffsets.ts';
import { emptyCheckpointStats, StateCheckpointer } from './stateCheckpointer.ts';

export { PartitionNotOwned } from './ownedPartitions.ts';
export type { InputRecord, OutputRecord, StoreSpec, ProcessContext, TransactionalProcessorOptions, ProcessorStats } from './processorTypes.ts';

export class TransactionalProcessor<V = never> {
  readonly stats: ProcessorStats = {
    records: 0,
    restores: 0,
    restoredRecords: 0,
    restoreMs: 0,
    outputs: 0,
    transactions: 0,
    aborts: 0,
    producerRecoveries: 0,
    enforcedProcessing: 0,
    commitLatency: new LatencyHistogram(),
    checkpoints: emptyCheckpointStats(),
  };
  /** Store access for hooks outside a batch (e.g. rebuilding timer indexes after a restore). */
  readonly ctx: ProcessContext<V>;
  private readonly partitions: OwnedPartitions<V>;
  private readonly consumer: Consumer;
  private readonly producer: ExactlyOnceProducer<V>;
  private readonly restores: RestoreStateMachine<V> | undefined;
  private readonly ownership: PartitionOwnership<V>;
  private readonly loop: ProcessorLoop<V>;
  private readonly opts: ResolvedProcessorOptions<V>;
  private readonly copartitions: CopartitionGuard;
  /** Local state checkpoints, when the options ask for them (stateCheckpointer.ts). */
  private readonly checkpointer: StateCheckpointer<V> | undefined;
  /** The consumer group and the topics it reads: what `groupLag` asks about. */
  readonly groupId: string;
  readonly inputTopics: readonly string[];

  constructor(opts: TransactionalProcessorOptions<V>) {
    // 15 s, not 30: a member that dies with a transaction open holds back every read_committed
    // reader of the partitions it wrote until the coordinator aborts it (a restart with the same
    // transactional id aborts it at once). A batch's transaction takes well under a second; the
    // margin covers a loaded machine, since a transaction past the timeout fences the member.
    this.opts = { maxBatch: 500, transactionTimeoutMs: 15_000, ...opts };
    this.groupId = opts.groupId;
    this.inputTopics = opts.inputTopics;
    this.partitions = new OwnedPartitions<V>(opts.clientId);
    this.ctx = this.partitions.ctx;
    this.copartitions = new CopartitionGuard(opts.inputTopics, this.partitions as OwnedPartitions<unknown>, opts.log);
    this.partitions.onChange = (consumer) => this.copartitions.check(consumer);
    const id = { brokers: opts.brokers, clientId: opts.clientId };
    const copartitioned = opts.inputTopics.length > 1;
    // librdkafka calls rebalance_cb with the consumer as `this`.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    this.consumer = new Kafka.KafkaConsumer(
      {
        // Several input topics share one store per partition number, so their
        // partitions must be assigned together (co-partitioning).
        ...consumerConfig(
          id,
          { ...opts, copartitioned },
          // Records of one input wait for the others' ends (partitionGroup.ts), which the next fetch
          // response reports: an idle fetch must not take librdkafka's default 500 ms.
          copartitioned ? { 'fetch.wait.max.ms': 100, ...opts.consumerConfig } : opts.consumerConfig,
        ),
        // Each input's read_committed end, for the co-partitioned inputs' order (partitionGroup.ts).
        ...(copartitioned ? { 'enable.partition.eof': true } : {}),
        rebalance_cb(this: Consumer, err: Kafka.LibrdKafkaError, assignment: Kafka.Assignment[]) {
          self.ownership.rebalance(this, err, assignment);
        },
      },
      consumerTopicConfig,
    );
    routeClientLog(this.consumer, opts.clientId);
    const store = this.opts.store;
    const changelogOffsets = store && opts.checkpoints ? new ChangelogOffsets() : undefined;
    this.producer = new ExactlyOnceProducer(this.opts, this.consumer, this.partitions.stores, this.stats, changelogOffsets);
    this.checkpointer =
      store && changelogOffsets && opts.checkpoints
        ? new StateCheckpointer(opts.checkpoints, opts.brokers, store, changelogOffsets, this.stats.checkpoints, opts.log)
        : undefined;
    if (store)
      this.restores = new RestoreStateMachine(
        { ...this.opts, store },
        this.partitions,
        this.producer,
        this.stats,
        {
          seedCommitted: (c, tps, known) => this.ownership.seedCommitted(c, tps, known),
          fencingOffsets: () => this.ownership.fencingOffsets(),
        },
        this.checkpointer && changelogOffsets ? { checkpointer: this.checkpointer, offsets: changelogOffsets } : undefined,
      );
    this.ownership = new PartitionOwnership(
      this.opts,
      this.partitions,
      this.restores,
      this.producer,
      this.consumer,
      () => this.loop.running,
      this.checkpointer,
    );
    const punctuator = opts.punctuate
      ? new Punctuator(opts.punctuate, opts.punctuateIntervalMs ?? 1000, this.producer, this.ctx, () => this.ownership.fencingOffsets(), !!store)
      : undefined;
    this.loop = new ProcessorLoop(
      this.opts,
      this.consumer,
      this.producer,
      this.partitions,
      this.ownership,
      this.restores,
      punctuator,
      this.stats,
      this.checkpointer,
    );
  }

  /** The topic partitions this member is assigned right now. */
  assignments(): Array<{ topic: string; partition: number }> {
    return this.consumer.assignments().map((a) => ({ topic: a.topic, partition: a.partition }));
  }

  /** Stores being restored and how far (member reports carry it; the console shows it). Empty without a store. */
  restoreProgress(): RestoreInFlight[] {
    return this.restores?.progress() ?? [];
  }

  /** Partitions held only in part (co-partitioned topics split across members) and so not processed. */
  splitPartitions(): number[] {
    return [...this.partitions.split].sort((a, b) => a - b);
  }

  /** How often a partition was found split and refused. */
  get copartitionRefusals(): number {
    return this.copartitions.refusals;
  }

  private get kip848(): boolean {
    return (this.opts.protocol ?? 'consumer') === 'consumer';
  }

  /** For /readyz (processorReadiness.ts): joined, the loop running, what it holds and in which state. */
  health(): ProcessorHealth {
    return {
      running: this.loop.running,
      joined: this.ownership.joined,
      live: this.ctx.partitions(),
      restoring: [...this.partitions.restoring.keys()].sort((a, b) => a - b),
      split: this.splitPartitions(),
    };
  }

  /** Resolves when every assigned partition's store is restored. */
  async restored(): Promise<void> {
    await this.restores?.restored();
  }

  async start(): Promise<void> {
    const { brokers, groupId, instanceId, log } = this.opts;
    try {
      if (this.opts.inputTopics.length > 1 || this.opts.store) await checkPartitionCounts(brokers, this.opts.inputTopics, this.opts.store?.changelogTopic);
      if (this.kip848) await applyGroupSession(brokers, groupId, log);
      // Before the producer fences the predecessor's transactional id and the consumer joins in its place.
      if (this.kip848 && instanceId) await takeOverInstance(brokers, groupId, instanceId, log);
      await this.producer.connect();
      await connectConsumer(this.consumer);
    } catch (err) {
      throw new Error(`${this.opts.clientId} could not start against Kafka at ${this.opts.brokers}: ${asError(err).message}`, { cause: err });
    }
    // Batches are bounded in time as well as size (boundedBatch.ts sets the consume waits).
    this.consumer.subscribe(this.opts.inputTopics);
    this.loop.start();
    if (this.kip848)
      void watchGroupJoin(
        this.opts,
        () => this.ownership.joined,
        () => (this.ownership.joined = true),
        () => !this.loop.running,
      );
  }

  /** Resolves when the loop ends; rejects with the fatal error that ended it. */
  done(): Promise<void> {
    return this.loop.done();
  }

  async stop(): Promise<void> {
    const { wasRunning, failed } = await this.loop.stop();
    // A clean stop is a handover too: its transaction commits before the consumer leaves,
    // fenced like any other (a member that lost its partitions meanwhile writes nothing).
    const parts = this.ctx.partitions();
    if (this.opts.onRevoking && wasRunning && !failed && parts.length > 0) {
      await this.producer
        .hookTransaction(
          `handing over partitions ${parts.join(',')} on stop`,
          () => this.opts.onRevoking!(parts, this.ctx),
          this.ownership.fencingOffsets(),
          true,
        )
        .catch((e) => this.opts.log?.(asError(e).message));
    }
    // Kafka Streams writes its checkpoints on close too: a restart then reads next to nothing of the changelogs.
    if (this.checkpointer && wasRunning && !failed) for (const p of this.ctx.partitions()) this.checkpointer.leaving(this.ctx.store(p));
    await disconnect(this.consumer);
    // A static member left "back soon": a clean stop hands its partitions over now instead.
    if (this.kip848 && this.opts.instanceId)
      await leaveForGood(this.opts.brokers, this.opts.groupId, this.opts.instanceId).catch((e) =>
        this.opts.log?.(`could not release static instance ${this.opts.instanceId}: ${asError(e).message}`),
      );
    await this.producer.disconnect();
    await this.restores?.close();
    await this.checkpointer?.flushed();
  }
}
