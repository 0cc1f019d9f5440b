// Restores the stores of newly assigned partitions before their records are
// processed (Kafka Streams' StoreChangelogReader). A partition's restore goes
//   awaiting-committed → reading-changelog → [awaiting-after-restore →] live
// and ends `failed` (the processor must stop) or `abandoned` (revoked meanwhile).
// Its input partitions stay paused until it is live.
import { ChangelogRestorer, type RestoreResult } from './changelogRestorer.ts';
import type { ExactlyOnceProducer } from './exactlyOnceProducer.ts';
import type { OwnedPartitions, RunningRestore } from './ownedPartitions.ts';
import { PartitionStore, storeCodec } from './partitionStore.ts';
import type { ProcessorStats, ResolvedProcessorOptions, StoreSpec } from './processorTypes.ts';
import { asError, committed, seek, type Consumer, type TopicPartitionOffset } from './rdkafkaPromises.ts';
import type Kafka from 'node-rdkafka';
import type { ChangelogOffsets } from './changelogOffsets.ts';
import type { StateCheckpointer } from './stateCheckpointer.ts';

export type RestoreState = 'awaiting-committed' | 'reading-changelog' | 'awaiting-after-restore' | 'live' | 'failed' | 'abandoned';

class PartitionRestore implements RunningRestore {
  state: RestoreState = 'awaiting-committed';
  settled!: Promise<void>;
  readonly startedAt = Date.now();
}

/** A restore in flight as member reports carry it (schemas: PartitionRestore). */
export interface RestoreInFlight {
  partition: number;
  phase: 'awaiting-committed' | 'reading-changelog' | 'awaiting-after-restore';
  restoredRecords: number;
  /** Changelog offsets to read: an upper bound on records; 0 while not known. */
  toRead: number;
  startedAt: number;
}

export class RestoreStateMachine<V> {
  private readonly restorer: ChangelogRestorer<V>;
  /** Restored partitions waiting for their `afterRestore` transaction, run by the loop. */
  private readonly pendingRestored: Array<{ partition: number; done: () => void }> = [];
  /** A failure outside the loop (a store that cannot be restored) that must end it. */
  failure: Error | undefined;

  constructor(
    private readonly opts: ResolvedProcessorOptions<V> & { store: StoreSpec<V> },
    private readonly partitions: OwnedPartitions<V>,
    private readonly producer: ExactlyOnceProducer<V>,
    private readonly stats: ProcessorStats,
    /** Ownership's record of the committed offsets (partitionOwnership.ts): seeded here, sent with every transaction. */
    private readonly offsets: {
      seedCommitted(consumer: Consumer, tps: Kafka.TopicPartition[], known: TopicPartitionOffset[]): Promise<void>;
      fencingOffsets(): TopicPartitionOffset[];
    },
    /** Local state checkpoints: loaded before the changelog is read, and told where each restore ended. */
    private readonly checkpoints?: { checkpointer: StateCheckpointer<V>; offsets: ChangelogOffsets },
  ) {
    this.restorer = new ChangelogRestorer(opts.brokers, opts.store.changelogTopic, opts.store.decode, opts.log, opts.groupId);
  }

  /** Still the partition's current restore (not revoked, nor revoked and assigned again, meanwhile). */
  private current(p: number, task: PartitionRestore): boolean {
    if (this.partitions.restoring.get(p) === task) return true;
    task.state = 'abandoned';
    return false;
  }

  /**
   * Pauses newly assigned partitions, restores their stores from the
   * changelog, then resumes them. The committed offset is fetched first: with
   * read_committed it waits for a previous owner's open transaction (KIP-447),
   * so the changelog read afterwards holds everything up to that offset.
   */
  start(consumer: Consumer, assignment: Kafka.Assignment[]): void {
    const { stores, restoring } = this.partitions;
    const partitions = [...new Set(assignment.map((a) => a.partition))];
    for (const p of partitions) {
      const tpsNow = assignment.filter((a) => a.partition === p).map((a) => ({ topic: a.topic, partition: a.partition }));
      if (stores.has(p)) {
        // Another topic of a partition we already hold: wait for its restore if one runs.
        const running = restoring.get(p);
        if (running) {
          consumer.pause(tpsNow);
          void running.settled.then(
            () =>
              this.partitions.owned.has(p) && !this.partitions.split.has(p) && consumer.resume(tpsNow.filter((t) => this.partitions.topics(p).has(t.topic))),
          );
        }
        continue;
      }
      consumer.pause(tpsNow);
      const store = new PartitionStore<V>(p, storeCodec(this.opts.store));
      stores.set(p, store);
      const tps = assignment.filter((a) => a.partition === p).map((a) => ({ topic: a.topic, partition: a.partition }));
      const task = new PartitionRestore();
      task.settled = (async () => {
        // Seeded before the afterRestore hook: its transaction carries them (fenced even before a first batch).
        let startAt: TopicPartitionOffset[] = [];
        await committed(consumer, tps, this.opts.transactionTimeoutMs)
          .then((known) => ((startAt = known), this.offsets.seedCommitted(consumer, tps, known)))
          .catch((e) => this.opts.log?.(`committed offsets of partition ${p} not known: ${asError(e).message}`));
        task.state = 'reading-changelog';
        const r = await this.restoreStore(p, store);
        if (!this.current(p, task)) return; // revoked meanwhile
        this.checkpoints?.offsets.restored(p, r.endOffset);
        this.stats.restores++;
        this.stats.restoredRecords += r.records;
        this.stats.restoreMs += r.ms;
        this.opts.onRestored?.(r);
        if (this.opts.afterRestore) {
          task.state = 'awaiting-after-restore';
          await new Promise<void>((done) => this.pendingRestored.push({ partition: p, done }));
          if (!this.current(p, task)) return;
        }
        task.state = 'live';
        restoring.delete(p);
        // A split partition stays paused until it is held whole (copartitioning.ts).
        if (!this.partitions.split.has(p)) {
          const held = tps.filter((t) => this.partitions.topics(p).has(t.topic));
          // Resumed at a concrete offset, librdkafka fetches at once; at its own "stored" offset it first asks
          // the coordinator again, which held a moved partition ~0.6 s longer (bench/eventManager.ts, the rebalance part).
          for (const o of startAt)
            if (o.offset >= 0 && held.some((t) => t.topic === o.topic && t.partition === o.partition))
              await seek(consumer, o).catch((e) =>
                this.opts.log?.(`partition ${p}: could not seek ${o.topic} to its committed offset ${o.offset}: ${asError(e).message}`),
              );
          consumer.resume(held);
        }
      })().catch((err) => {
        if (!this.current(p, task)) return; // revoked meanwhile: not ours to restore
        task.state = 'failed';
        this.stats.lastError = `restore of partition ${p} failed: ${asError(err).message}`;
        this.opts.log?.(this.stats.lastError);
        restoring.delete(p);
        stores.delete(p);
        // The partition stays assigned and paused: going on would hold it unprocessed for good.
        this.failure ??= new Error(`transactional processor ${this.opts.transactionalId} must stop: ${this.stats.lastError}`);
      });
      restoring.set(p, task);
    }
  }

  /**
   * From the partition's checkpoint and the changelog after it when the checkpoint is
   * valid, else the whole changelog. Records deleted from the changelog while its tail
   * was read would be missing from the store: then it is restored again in full.
   */
  private async restoreStore(p: number, store: PartitionStore<V>): Promise<RestoreResult> {
    if (!this.checkpoints) return this.restorer.restore(store);
    const started = Date.now();
    const { checkpointer } = this.checkpoints;
    const loadedBefore = checkpointer.stats.loadedEntries;
    const from = await checkpointer.load(store, await this.restorer.watermarks(p));
    if (from === undefined) return this.restorer.restore(store);
    const r = await this.restorer.restore(store, from);
    const { low } = await this.restorer.watermarks(p);
    // Its time includes loading the checkpoint.
    if (low <= from) return { ...r, ms: Date.now() - started, checkpointEntries: checkpointer.stats.loadedEntries - loadedBefore };
    checkpointer.stats.fallbacks['below-log-start'] = (checkpointer.stats.fallbacks['below-log-start'] ?? 0) + 1;
    this.opts.log?.(`partition ${p}: the changelog now starts at ${low}, after the checkpoint's offset ${from - 1}: restoring it in full`);
    const fresh = new PartitionStore<V>(p, storeCodec(this.opts.store));
    if (this.partitions.stores.get(p) === store) this.partitions.stores.set(p, fresh);
    return this.restorer.restore(fresh);
  }

  /** Every restore not yet live, with the changelog reader's progress for those it is reading. */
  progress(): RestoreInFlight[] {
    const reading = new Map(this.restorer.progress().map((r) => [r.partition, r]));
    const out: RestoreInFlight[] = [];
    for (const [partition, task] of this.partitions.restoring) {
      if (
        !(task instanceof PartitionRestore) ||
        (task.state !== 'awaiting-committed' && task.state !== 'reading-changelog' && task.state !== 'awaiting-after-restore')
      )
        continue;
      const r = reading.get(partition);
      out.push({ partition, phase: task.state, restoredRecords: r?.records ?? 0, toRead: r?.toRead ?? 0, startedAt: task.startedAt });
    }
    return out.sort((a, b) => a.partition - b.partition);
  }

  /** The `afterRestore` transactions of restored partitions: run by the loop, between batches. */
  async runAfterRestoreHooks(): Promise<void> {
    const { stores, restoring, ctx } = this.partitions;
    while (this.pendingRestored.length > 0) {
      const { partition, done } = this.pendingRestored.shift()!;
      try {
        if (stores.has(partition) && restoring.has(partition) && !this.partitions.split.has(partition))
          await this.producer.hookTransaction(
            `after restoring partition ${partition}`,
            () => this.opts.afterRestore!(partition, ctx),
            this.offsets.fencingOffsets(),
          );
      } finally {
        done();
      }
    }
  }

  /** The loop ended: restores waiting for their hook go on without it. */
  releaseWaiting(): void {
    for (const r of this.pendingRestored.splice(0)) r.done();
  }

  /** Resolves when every assigned partition's store is restored. */
  async restored(): Promise<void> {
    while (this.partitions.restoring.size > 0) await Promise.all([...this.partitions.restoring.values()].map((r) => r.settled));
  }

  close(): Promise<void> {
    return this.restorer.close();
  }
}
