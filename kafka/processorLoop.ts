// The poll → process → commit loop of a processor member (Kafka Streams'
// StreamThread). Between batches it runs what callbacks queued (restored
// partitions' hooks, then revocations with their handovers), consumes, processes
// a batch in one transaction with its input offsets, and punctuates. Ownership
// changes only between batches, so a batch never loses a store under it. A failed
// batch is aborted and re-read from its first offsets. A fenced or failed producer
// is recovered in place, as Kafka Streams handles "task migrated": the stores'
// uncommitted writes are dropped, a new producer of the same transactional id
// aborts what the old one left open, and every held partition is restored from its
// changelog and re-read from its committed offset — without leaving the group. A
// bounded number of times per window; past it, and on any other fatal failure, the loop ends.
import { ProducerFatalError, type ExactlyOnceProducer } from './exactlyOnceProducer.ts';
import type { OwnedPartitions } from './ownedPartitions.ts';
import type { PartitionOwnership } from './partitionOwnership.ts';
import type { InputRecord, ProcessorStats, ResolvedProcessorOptions } from './processorTypes.ts';
import type { Punctuator } from './punctuator.ts';
import { DEFAULT_MAX_TASK_IDLE_MS } from '../config/settings.ts';
import { PartitionGroup, tpKey } from './partitionGroup.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RestoreStateMachine } from './restoreStateMachine.ts';
import { consumeBounded, DEFAULT_BATCH_BOUNDS } from './boundedBatch.ts';
import type Kafka from 'node-rdkafka';
import { asError, type Consumer, type Message, type TopicPartitionOffset } from './rdkafkaPromises.ts';
import { isOutage, outageLimitError } from './errorClass.ts';
import type { StateCheckpointer } from './stateCheckpointer.ts';

/** Records buffered per input partition before its fetching pauses (Streams' buffered.records.per.partition). */
const BUFFERED_PER_PARTITION = 1000;

export class ProcessorLoop<V> {
  running = false;
  private loop: Promise<void> | undefined;
  /** When batches began failing on an outage without a commit since (maxOutageMs). */
  private outageSince: number | undefined;
  private nextMarkerCheck = 0;
  /** When the producer was last recovered in place (within the window): the bound on recoveries. */
  private recoveries: number[] = [];
  /** Consumed records not processed yet: co-partitioned inputs wait for each other (max.task.idle.ms). */
  private readonly group: PartitionGroup;
  /** Input partitions paused because they have BUFFERED_PER_PARTITION records waiting. */
  private readonly full = new Map<string, Kafka.TopicPartition>();

  constructor(
    private readonly opts: ResolvedProcessorOptions<V>,
    private readonly consumer: Consumer,
    private readonly producer: ExactlyOnceProducer<V>,
    private readonly partitions: OwnedPartitions<V>,
    private readonly ownership: PartitionOwnership<V>,
    private readonly restores: RestoreStateMachine<V> | undefined,
    private readonly punctuator: Punctuator<V> | undefined,
    private readonly stats: ProcessorStats,
    private readonly checkpointer?: StateCheckpointer<V>,
  ) {
    producer.giveUpAbort = this.giveUpAbort;
    // How long a partition number's records wait at most for a co-partitioned input whose end is not
    // known. Normally the next fetch response tells (≤ fetch.wait.max.ms); this bounds a partition whose
    // fetches stall (its leader away, a first offset lookup on a new topic: seen taking 2 s). Kafka
    // Streams waits on an unknown lag without a bound.
    this.group = new PartitionGroup(opts.inputTopics.length > 1 ? (opts.maxTaskIdleMs ?? DEFAULT_MAX_TASK_IDLE_MS) : 0);
    consumer.on('partition.eof', (e) => this.group.atEnd(e.topic, e.partition, e.offset, ownership.epochNow()));
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
    // The failure reaches whoever awaits done(); until someone does, it must not
    // count as an unhandled rejection (Node would kill the process without a clean stop).
    this.loop.catch(() => {});
  }

  /** Resolves when the loop ends; rejects with the fatal error that ended it. */
  done(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  /** Ends the loop after its current step; resolves whether it failed. */
  async stop(): Promise<{ wasRunning: boolean; failed: boolean }> {
    const wasRunning = this.running;
    this.running = false;
    let failed = false;
    await this.loop?.catch(() => (failed = true));
    return { wasRunning, failed };
  }

  /** Restore transactions, then revocations (with their handovers) queued by callbacks: applied between batches. */
  private async runLoopTasks(): Promise<void> {
    await this.restores?.runAfterRestoreHooks();
    await this.ownership.runHandovers();
  }

  private async run(): Promise<void> {
    try {
      while (this.running) {
        if (this.restores?.failure) throw this.restores.failure;
        try {
          await this.runLoopTasks();
          this.ownership.consumeStarting();
          const messages = await consumeBounded(this.consumer, { ...DEFAULT_BATCH_BOUNDS, max: this.opts.maxBatch });
          const fresh = await this.ownership.holdBack(messages);
          // After holdBack: where both seek one partition, the prune's seek (to its first buffered record, the earlier offset) stays.
          await this.ownership.pruneBuffered(this.group);
          this.group.add(fresh, this.ownership.consumedEpoch());
          // Every input topic of a partition number, held yet or not: an assignment may come topic by topic.
          const taken = this.group.take(
            this.opts.maxBatch,
            Date.now(),
            () => this.opts.inputTopics,
            (t, p) => this.ownership.assignedEpochOf(t, p),
          );
          this.stats.enforcedProcessing += taken.enforced;
          this.pauseFullPartitions(messages);
          if (taken.records.length > 0) await this.processBatch(taken.records);
          else await this.commitPastMarkers();
          await this.punctuator?.runIfDue();
          // Background writes: the loop goes on while they read the stores.
          this.checkpointer?.maybeWrite(this.partitions.stores, this.partitions.ctx.partitions());
        } catch (err) {
          if (!(err instanceof ProducerFatalError) || !this.running) throw err;
          await this.recoverInPlace(err);
        }
      }
      await this.runLoopTasks();
    } finally {
      this.running = false;
      // After a fatal error: release what callbacks still wait for, without their hooks.
      this.ownership.releasePending();
      this.restores?.releaseWaiting();
    }
  }

  /**
   * Kafka Streams' answer to a fenced producer ("task migrated"): close the tasks dirty,
   * a new producer, restore. Here without leaving the group: the stores' uncommitted
   * writes are dropped, the new producer's initTransactions aborts what the old one left
   * open, and every held partition's store is restored from its changelog while its input
   * is re-read from the committed offset — so what was committed is exactly what the
   * member goes on from, whoever committed it. Bounded per window: a member fenced again
   * and again (two live processes sharing one transactional id) stops with the reason.
   */
  private async recoverInPlace(err: ProducerFatalError): Promise<void> {
    const max = this.opts.maxProducerRecoveries ?? 3;
    const windowMs = this.opts.producerRecoveryWindowMs ?? 600_000;
    const now = Date.now();
    this.recoveries = this.recoveries.filter((t) => now - t < windowMs);
    if (this.recoveries.length >= max)
      throw new Error(
        `transactional processor must stop: ${err.message} (not recovered in place: ${this.recoveries.length} in-place recoveries within ${Math.round(windowMs / 1000)} s already, ` +
          'the limit; is another live process using the same transactional id?)',
        { cause: err },
      );
    this.recoveries.push(now);
    this.stats.lastError = err.message;
    this.opts.log?.(`${err.message}: recovering in place — uncommitted state dropped, a new producer of ${this.opts.transactionalId}, partitions restored`);
    this.producer.discardWrites();
    await this.renewProducer(err);
    await this.ownership.reinitialize(this.consumer);
    this.outageSince = undefined;
    this.stats.producerRecoveries++;
  }

  /** A new producer, retried for up to a transaction timeout (a broker or coordinator coming back); then the loop ends. */
  private async renewProducer(cause: Error): Promise<void> {
    const deadline = Date.now() + this.opts.transactionTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.producer.renew();
      } catch (e) {
        if (!this.running || Date.now() > deadline)
          throw new Error(
            `transactional processor must stop: ${cause.message} (no new producer within ${this.opts.transactionTimeoutMs} ms: ${asError(e).message})`,
            { cause: e },
          );
        this.opts.log?.(`new producer of ${this.opts.transactionalId}: ${asError(e).message}; retrying (attempt ${attempt + 1})`);
        await sleep(Math.min(500 * attempt, 2000));
      }
    }
  }

  /** A retried abort stops when the member stops, or once the outage has lasted past maxOutageMs. */
  private readonly giveUpAbort = (): boolean => {
    const limit = this.opts.maxOutageMs ?? 0;
    if (!this.running) return true;
    if (limit <= 0) return false;
    this.outageSince ??= Date.now();
    return Date.now() - this.outageSince >= limit;
  };

  /** Past maxOutageMs of outage-failed batches: a fatal error, so the process stops and says why. */
  private stopAfterLongOutage(err: unknown, e: Error): void {
    const limit = this.opts.maxOutageMs ?? 0;
    if (limit <= 0 || !isOutage(err)) return;
    const now = Date.now();
    this.outageSince ??= now;
    if (now - this.outageSince < limit) return;
    throw outageLimitError(now - this.outageSince, limit, e, 'the failed batch was not committed and is re-read by the next owner', err);
  }

  /**
   * Bounds the buffer: an input partition with BUFFERED_PER_PARTITION records waiting (on
   * another input that is behind) stops fetching until half of them are taken, while the
   * others go on — the one it waits for among them. librdkafka drops what it prefetched
   * and fetches again from the last record consumed on resume.
   */
  private pauseFullPartitions(consumed: Message[]): void {
    for (const [k, tp] of this.full) {
      // Not processable now (revoked, restoring, split): resumed once it is ours and live again
      // (librdkafka's assign keeps an application's pause; a restore's resume clears it first).
      if (this.ownership.processableNow(tp.topic, tp.partition) && this.group.waiting(tp.topic, tp.partition) <= BUFFERED_PER_PARTITION / 2) this.resumeFull(k);
    }
    for (const m of consumed) {
      const k = tpKey(m.topic, m.partition);
      if (this.full.has(k) || this.group.waiting(m.topic, m.partition) < BUFFERED_PER_PARTITION) continue;
      const tp = { topic: m.topic, partition: m.partition };
      try {
        this.consumer.pause([tp]);
        this.full.set(k, tp);
      } catch (err) {
        this.opts.log?.(`could not pause ${m.topic}[${m.partition}] with ${BUFFERED_PER_PARTITION} records waiting: ${asError(err).message}`);
      }
    }
  }

  private resumeFull(k: string): void {
    const tp = this.full.get(k);
    if (!tp) return;
    this.full.delete(k);
    try {
      this.consumer.resume([tp]);
    } catch (err) {
      this.opts.log?.(`could not resume ${tp.topic}[${tp.partition}]: ${asError(err).message}`);
    }
  }

  /** Idle: offsets that only moved past transaction markers are committed (the group's lag reaches 0), at most once a second. */
  private async commitPastMarkers(): Promise<void> {
    const now = Date.now();
    if (now < this.nextMarkerCheck) return;
    this.nextMarkerCheck = now + 1000;
    // Partitions with records waiting are past them only because those are not processed yet.
    const ahead = this.ownership.pastMarkers(this.consumer).filter((o) => this.group.waiting(o.topic, o.partition) === 0);
    if (ahead.length === 0) return;
    const outcome = await this.producer.hookTransaction('committing offsets past transaction markers', () => [], this.ownership.fencingOffsets(ahead), true);
    if (outcome === 'committed') this.ownership.committed(ahead);
  }

  /** One transaction: `messages` (in processing order, partitionGroup.ts) processed, their outputs and offsets committed. */
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
      const k = tpKey(r.topic, r.partition);
      if (!first.has(k)) first.set(k, { topic: r.topic, partition: r.partition, offset: r.offset });
      next.set(k, { topic: r.topic, partition: r.partition, offset: r.offset + 1 });
    }
    try {
      await this.producer.begin();
      const outputs = await this.opts.process(batch, this.partitions.ctx);
      // Revocations wait for the batch, so this holds unless the loop itself released
      // partitions: their records are not ours to commit, they are re-read (never dead-lettered).
      const gone = batch.find((r) => !this.ownership.owns(r.topic, r.partition));
      if (gone) throw new Error(`${gone.topic}[${gone.partition}] left this member during the batch`);
      await this.producer.produceAll(outputs);
      await this.producer.sendOffsets(this.ownership.fencingOffsets(next.values()));
      await this.producer.commit(outputs.length);
      this.ownership.committed(next.values());
      this.stats.records += batch.length;
      this.outageSince = undefined;
    } catch (err) {
      const e = asError(err);
      this.stats.lastError = e.message;
      const fatal = this.producer.fatalError(err, e);
      if (fatal) throw fatal;
      this.stats.aborts += 1;
      this.producer.discardWrites();
      this.opts.log?.(`batch aborted, re-reading ${batch.length} records: ${e.message}`);
      await this.producer.abort(this.giveUpAbort).catch((ae) => {
        // A producer failed for good while aborting is replaced in place like any other.
        const Failure = (ae as { isFatal?: boolean }).isFatal === true ? ProducerFatalError : Error;
        throw new Failure(`abort failed after "${e.message}": ${asError(ae).message}`, { cause: ae });
      });
      // Read again from the batch's first offsets: what was buffered behind them comes again too.
      for (const f of first.values()) {
        this.group.drop(f.topic, f.partition);
        this.resumeFull(tpKey(f.topic, f.partition));
      }
      await this.ownership.rewind(first.values());
      this.stopAfterLongOutage(err, e);
    }
  }
}
