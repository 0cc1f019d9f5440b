// Consume → process → produce, exactly once (Kafka Streams' model on
// node-rdkafka): each batch's output records and its input offsets commit in
// one transaction, fenced by the consumer group's generation (KIP-447). A
// failed batch is aborted and re-read from its first offsets, so downstream
// read_committed consumers see every input's output exactly once.
import Kafka from 'node-rdkafka';
import { consumerConfig, consumerTopicConfig, producerTopicConfig, transactionalProducerConfig, type GroupOptions } from './rdkafkaConfig.ts';
import { ChangelogRestorer, type RestoreResult } from './changelogRestorer.ts';
import { PartitionStore } from './partitionStore.ts';
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
  committed,
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

/** A state store backed by a compacted changelog topic, partitioned like the input. */
export interface StoreSpec<V> {
  changelogTopic: string;
  encode(value: V): Buffer;
  decode(value: Buffer): V | Promise<V>;
}

export interface ProcessContext<V> {
  /** The store partition of an input partition this member owns (restored before its records arrive). */
  store(partition: number): PartitionStore<V>;
  /** Input partitions whose stores are restored and live. */
  partitions(): number[];
}

export interface TransactionalProcessorOptions<V = never> extends GroupOptions {
  brokers: string;
  clientId: string;
  inputTopics: string[];
  /** Unique per member (a restarted member reuses its id so zombies are fenced). */
  transactionalId: string;
  process: (batch: InputRecord[], ctx: ProcessContext<V>) => Promise<OutputRecord[]> | OutputRecord[];
  store?: StoreSpec<V>;
  /** Called every `punctuateIntervalMs` (wall clock) in a transaction of its own: timers. */
  punctuate?: (nowMs: number, ctx: ProcessContext<V>) => Promise<OutputRecord[]> | OutputRecord[];
  punctuateIntervalMs?: number;
  /** Called when a partition's store has been restored, before its records are processed. */
  onRestored?: (r: RestoreResult) => void;
  /** Called after an aborted transaction's store writes were discarded (indexes built on them are stale). */
  onAborted?: () => void;
  /**
   * Graceful handover (a rebalance revokes partitions, or `stop()`): called with the
   * partitions about to be released, in a transaction of its own that commits before they
   * are, so the next owner restores its writes. Not called for partitions lost without a
   * handover (crash, session timeout): `afterRestore` on the new owner covers those.
   */
  onRevoking?: (partitions: number[], ctx: ProcessContext<V>) => Promise<OutputRecord[]> | OutputRecord[];
  /** Called when a partition's store is restored, in a transaction committed before its records are processed. */
  afterRestore?: (partition: number, ctx: ProcessContext<V>) => Promise<OutputRecord[]> | OutputRecord[];
  maxBatch?: number;
  transactionTimeoutMs?: number;
  /** Extra librdkafka producer settings (e.g. message.max.bytes for large state records). */
  producerConfig?: Kafka.ProducerGlobalConfig;
  /** Extra librdkafka consumer settings (e.g. a shorter fetch.wait.max.ms for latency). */
  consumerConfig?: Kafka.ConsumerGlobalConfig;
  /** Called with partitions newly assigned / about to be revoked (state restore hooks). */
  onAssigned?: (partitions: Kafka.TopicPartition[]) => void;
  onRevoked?: (partitions: Kafka.TopicPartition[]) => void;
  log?: (line: string) => void;
}

export interface ProcessorStats {
  records: number;
  restores: number;
  restoredRecords: number;
  outputs: number;
  transactions: number;
  aborts: number;
  lastError?: string;
}

const { CODES } = Kafka;

export class TransactionalProcessor<V = never> {
  readonly stats: ProcessorStats = { records: 0, restores: 0, restoredRecords: 0, outputs: 0, transactions: 0, aborts: 0 };
  private readonly stores = new Map<number, PartitionStore<V>>();
  private readonly owned = new Map<number, Set<string>>();
  /** Partitions assigned but still restoring (paused until done). */
  private readonly restoring = new Map<number, Promise<void>>();
  private readonly restorer: ChangelogRestorer<V> | undefined;
  private epoch = 0;
  private consumeEpoch = 0;
  private readonly assignedEpoch = new Map<string, number>();
  private lastPunctuate = Date.now();
  /** Revocations held until the loop can commit their handover transaction (transactions never interleave). */
  private readonly pendingRevokes: Array<{ consumer: Consumer; assignment: Kafka.Assignment[]; cooperative: boolean }> = [];
  /** Restored partitions waiting for their `afterRestore` transaction, run by the loop. */
  private readonly pendingRestored: Array<{ partition: number; done: () => void }> = [];
  /** Next offset per input topic partition as last committed by this member: a handover re-sends them so the group fences it. */
  private readonly committedNext = new Map<string, TopicPartitionOffset>();
  /** Store access for hooks outside a batch (e.g. rebuilding timer indexes after a restore). */
  readonly ctx: ProcessContext<V>;
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private running = false;
  private loop: Promise<void> | undefined;
  /** A failure outside the loop (a store that cannot be restored) that must end it. */
  private failure: Error | undefined;
  private readonly opts: Required<Pick<TransactionalProcessorOptions<V>, 'maxBatch' | 'transactionTimeoutMs'>> & TransactionalProcessorOptions<V>;

  constructor(opts: TransactionalProcessorOptions<V>) {
    this.opts = { maxBatch: 500, transactionTimeoutMs: 30_000, ...opts };
    if (opts.store) this.restorer = new ChangelogRestorer(opts.brokers, opts.store.changelogTopic, opts.store.decode);
    this.ctx = {
      store: (partition) => {
        const st = this.stores.get(partition);
        if (!st) throw new Error(`partition ${partition} is not owned by ${opts.clientId} (revoked or still restoring)`);
        return st;
      },
      partitions: () => [...this.stores.keys()].filter((p) => !this.restoring.has(p)).sort((a, b) => a - b),
    };
    const id = { brokers: opts.brokers, clientId: opts.clientId };
    const self = this;
    this.consumer = new Kafka.KafkaConsumer(
      {
        // Several input topics share one store per partition number, so their
        // partitions must be assigned together (co-partitioning).
        ...consumerConfig(id, { ...opts, copartitioned: opts.inputTopics.length > 1 }, opts.consumerConfig),
        rebalance_cb(this: Consumer, err: Kafka.LibrdKafkaError, assignment: Kafka.Assignment[]) {
          self.rebalance(this, err, assignment);
        },
      },
      consumerTopicConfig,
    );
    this.producer = new Kafka.Producer(transactionalProducerConfig(id, opts.transactionalId, { 'transaction.timeout.ms': this.opts.transactionTimeoutMs, ...opts.producerConfig }), producerTopicConfig);
  }

  private rebalance(consumer: Consumer, err: Kafka.LibrdKafkaError, assignment: Kafka.Assignment[]): void {
    const cooperative = consumer.rebalanceProtocol() === 'COOPERATIVE';
    try {
      if (err.code === CODES.ERRORS.ERR__ASSIGN_PARTITIONS) {
        this.opts.log?.(`assigned ${assignment.map((a) => `${a.topic}[${a.partition}]`).join(' ') || '(none)'}`);
        if (cooperative) consumer.incrementalAssign(assignment);
        else consumer.assign(assignment);
        for (const a of assignment) this.ownedTopics(a.partition).add(a.topic);
        this.epoch++;
        for (const a of assignment) this.assignedEpoch.set(`${a.topic}\u0000${a.partition}`, this.epoch);
        if (this.opts.store) this.startRestores(consumer, assignment);
        this.opts.onAssigned?.(assignment);
      } else if (err.code === CODES.ERRORS.ERR__REVOKE_PARTITIONS) {
        this.opts.log?.(`revoked ${assignment.map((a) => `${a.topic}[${a.partition}]`).join(' ') || '(none)'}`);
        // A handover hook needs a transaction: the loop runs it between batches and
        // releases the partitions after it committed (librdkafka waits for the unassign).
        if (this.opts.onRevoking && this.running) this.pendingRevokes.push({ consumer, assignment, cooperative });
        else this.release(consumer, assignment, cooperative);
      }
    } catch (e) {
      this.opts.log?.(`rebalance handling failed: ${asError(e).message}`);
    }
  }

  private release(consumer: Consumer, assignment: Kafka.Assignment[], cooperative: boolean): void {
    this.opts.onRevoked?.(assignment);
    // A partition's state goes when the last of its co-partitioned topics
    // does; an in-flight batch that touched it fails to commit (fenced
    // generation) and is discarded.
    for (const a of assignment) {
      const owned = this.ownedTopics(a.partition);
      owned.delete(a.topic);
      if (owned.size > 0) continue;
      this.owned.delete(a.partition);
      this.stores.delete(a.partition);
      this.restoring.delete(a.partition);
    }
    for (const a of assignment) this.committedNext.delete(`${a.topic}\u0000${a.partition}`);
    if (cooperative) consumer.incrementalUnassign(assignment);
    else consumer.unassign();
  }

  /** Partitions whose store goes with this revocation (the last of their co-partitioned topics), restored ones only. */
  private leaving(assignment: Kafka.Assignment[]): number[] {
    const out: number[] = [];
    for (const p of new Set(assignment.map((a) => a.partition))) {
      const remaining = [...this.ownedTopics(p)].filter((t) => !assignment.some((a) => a.partition === p && a.topic === t));
      if (remaining.length === 0 && this.stores.has(p) && !this.restoring.has(p)) out.push(p);
    }
    return out.sort((a, b) => a - b);
  }

  /** Handover transactions and restore transactions queued by callbacks: run between batches. */
  private async runLoopTasks(): Promise<void> {
    while (this.pendingRestored.length > 0) {
      const { partition, done } = this.pendingRestored.shift()!;
      try {
        if (this.stores.has(partition) && this.restoring.has(partition)) await this.hookTransaction(`after restoring partition ${partition}`, () => this.opts.afterRestore!(partition, this.ctx));
      } finally {
        done();
      }
    }
    while (this.pendingRevokes.length > 0) {
      const r = this.pendingRevokes.shift()!;
      try {
        const parts = this.leaving(r.assignment);
        // Re-sending our committed offsets of those partitions makes a member that lost them (no longer
        // in the group's generation) fail to commit the handover instead of writing behind the new owner.
        const offsets = parts.length === 0 ? [] : [...this.committedNext.values()].filter((o) => parts.includes(o.partition));
        if (parts.length > 0) await this.hookTransaction(`handing over partitions ${parts.join(',')}`, () => this.opts.onRevoking!(parts, this.ctx), offsets);
      } finally {
        this.release(r.consumer, r.assignment, r.cooperative);
      }
    }
  }

  /**
   * A hook's outputs and store writes in one transaction (skipped when it has none).
   * A non-fatal failure is logged and its writes discarded: for a handover the next
   * owner then finds the state as it was (as after a crash).
   */
  private async hookTransaction(what: string, hook: () => Promise<OutputRecord[]> | OutputRecord[], offsets: TopicPartitionOffset[] = []): Promise<void> {
    let open = false;
    try {
      const outputs = await hook();
      if (outputs.length === 0 && ![...this.stores.values()].some((st) => st.hasPending)) return;
      await beginTransaction(this.producer);
      open = true;
      this.produceAll(outputs);
      if (offsets.length > 0) await sendOffsetsToTransaction(this.producer, offsets, this.consumer, this.opts.transactionTimeoutMs);
      await commitTransaction(this.producer, this.opts.transactionTimeoutMs);
      this.afterCommit(outputs.length);
    } catch (err) {
      const e = asError(err);
      this.stats.lastError = `${what}: ${e.message}`;
      this.opts.log?.(`${what} failed: ${e.message}`);
      this.afterFailure(err, e);
      if (open) {
        this.stats.aborts += 1;
        await abortTransaction(this.producer, this.opts.transactionTimeoutMs).catch(() => {});
      }
    }
  }

  /**
   * Pauses newly assigned partitions, restores their stores from the
   * changelog, then resumes them. The committed offset is fetched first: with
   * read_committed it waits for a previous owner's open transaction (KIP-447),
   * so the changelog read afterwards holds everything up to that offset.
   */
  private startRestores(consumer: Consumer, assignment: Kafka.Assignment[]): void {
    const partitions = [...new Set(assignment.map((a) => a.partition))];
    for (const p of partitions) {
      const tpsNow = assignment.filter((a) => a.partition === p).map((a) => ({ topic: a.topic, partition: a.partition }));
      if (this.stores.has(p)) {
        // Another topic of a partition we already hold: wait for its restore if one runs.
        const running = this.restoring.get(p);
        if (running) {
          consumer.pause(tpsNow);
          void running.then(() => this.owned.has(p) && consumer.resume(tpsNow.filter((t) => this.ownedTopics(p).has(t.topic))));
        }
        continue;
      }
      consumer.pause(tpsNow);
      const store = new PartitionStore<V>(p);
      this.stores.set(p, store);
      const tps = assignment.filter((a) => a.partition === p).map((a) => ({ topic: a.topic, partition: a.partition }));
      let job!: Promise<void>;
      job = (async () => {
        await committed(consumer, tps, this.opts.transactionTimeoutMs).catch(() => {});
        const r = await this.restorer!.restore(store);
        if (this.restoring.get(p) !== job) return; // revoked meanwhile
        this.stats.restores++;
        this.stats.restoredRecords += r.records;
        this.opts.onRestored?.(r);
        if (this.opts.afterRestore) {
          await new Promise<void>((done) => this.pendingRestored.push({ partition: p, done }));
          if (this.restoring.get(p) !== job) return;
        }
        this.restoring.delete(p);
        consumer.resume(tps.filter((t) => this.ownedTopics(p).has(t.topic)));
      })().catch((err) => {
        if (this.restoring.get(p) !== job) return; // revoked meanwhile: not ours to restore
        this.stats.lastError = `restore of partition ${p} failed: ${asError(err).message}`;
        this.opts.log?.(this.stats.lastError);
        this.restoring.delete(p);
        this.stores.delete(p);
        // The partition stays assigned and paused: going on would hold it unprocessed for good.
        this.failure ??= new Error(`transactional processor ${this.opts.transactionalId} must stop: ${this.stats.lastError}`);
      });
      this.restoring.set(p, job);
    }
  }

  /** Input topics this member holds partition `p` of (the store lives while any remains). */
  private ownedTopics(p: number): Set<string> {
    let set = this.owned.get(p);
    if (!set) this.owned.set(p, (set = new Set()));
    return set;
  }

  /** The topic partitions this member is assigned right now. */
  assignments(): Array<{ topic: string; partition: number }> {
    return this.consumer.assignments().map((a) => ({ topic: a.topic, partition: a.partition }));
  }

  /** Resolves when every assigned partition's store is restored. */
  async restored(): Promise<void> {
    while (this.restoring.size > 0) await Promise.all(this.restoring.values());
  }

  async start(): Promise<void> {
    try {
      await connectProducer(this.producer);
      await initTransactions(this.producer, this.opts.transactionTimeoutMs);
      await connectConsumer(this.consumer);
    } catch (err) {
      throw new Error(`${this.opts.clientId} could not start against Kafka at ${this.opts.brokers}: ${asError(err).message}`);
    }
    // consume(n) waits this long for EACH missing record (there is no batch
    // deadline): a short wait ends a batch at the first lull, so steady
    // traffic cannot hold a batch open for seconds; under load batches still fill.
    this.consumer.setDefaultConsumeTimeout(10);
    this.consumer.subscribe(this.opts.inputTopics);
    this.running = true;
    this.loop = this.runLoop();
    // The failure reaches whoever awaits done(); until someone does, it must not
    // count as an unhandled rejection (Node would kill the process without a clean stop).
    this.loop.catch(() => {});
  }

  /** Resolves when the loop ends; rejects with the fatal error that ended it. */
  done(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  private async runLoop(): Promise<void> {
    try {
      while (this.running) {
        if (this.failure) throw this.failure;
        await this.runLoopTasks();
        this.consumeEpoch = this.epoch;
        const messages = await consumeBatch(this.consumer, this.opts.maxBatch);
        if (messages.length > 0) await this.processBatch(messages);
        if (this.opts.punctuate && Date.now() - this.lastPunctuate >= (this.opts.punctuateIntervalMs ?? 1000)) {
          this.lastPunctuate = Date.now();
          await this.runPunctuation();
        }
      }
      await this.runLoopTasks();
    } finally {
      this.running = false;
      // After a fatal error: release what callbacks still wait for, without their hooks.
      for (const r of this.pendingRevokes.splice(0)) this.release(r.consumer, r.assignment, r.cooperative);
      for (const r of this.pendingRestored.splice(0)) r.done();
    }
  }

  private async processBatch(all: Message[]): Promise<void> {
    // Records consumed across a rebalance: a partition revoked, still restoring, or
    // (re)assigned since this consume began is not processed or committed now.
    // Those still assigned to us are read again from their first skipped record
    // (seek purges what was prefetched; the loop consumes only after this), the
    // revoked ones are read by their new owner from the committed offset.
    const ours = (m: Message) => this.owned.get(m.partition)?.has(m.topic) === true;
    const reassigned = (m: Message) => (this.assignedEpoch.get(`${m.topic}\u0000${m.partition}`) ?? 0) > this.consumeEpoch;
    const processable = (m: Message) => ours(m) && this.stores.has(m.partition) && !this.restoring.has(m.partition) && !reassigned(m);
    const messages = this.opts.store ? all.filter(processable) : all;
    if (messages.length < all.length) {
      this.opts.log?.(`held back ${all.length - messages.length} records consumed across a rebalance`);
      const rewind = new Map<string, TopicPartitionOffset>();
      for (const m of all) {
        const k = `${m.topic}\u0000${m.partition}`;
        if (!processable(m) && ours(m) && !rewind.has(k)) rewind.set(k, { topic: m.topic, partition: m.partition, offset: m.offset });
      }
      for (const tpo of rewind.values()) {
        await seek(this.consumer, tpo).catch((err) => {
          // Losing the position would skip records: stop rather than go on.
          throw new Error(`could not rewind ${tpo.topic}[${tpo.partition}] to ${tpo.offset} after a rebalance: ${asError(err).message}`);
        });
      }
    }
    if (messages.length === 0) return;
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
      const outputs = await this.opts.process(batch, this.ctx);
      this.produceAll(outputs);
      await sendOffsetsToTransaction(this.producer, [...next.values()], this.consumer, this.opts.transactionTimeoutMs);
      await commitTransaction(this.producer, this.opts.transactionTimeoutMs);
      this.afterCommit(outputs.length);
      for (const [k, o] of next) this.committedNext.set(k, o);
      this.stats.records += batch.length;
    } catch (err) {
      const e = asError(err);
      this.stats.lastError = e.message;
      const fatal = this.fatalError(err, e);
      if (fatal) throw fatal;
      this.stats.aborts += 1;
      for (const st of this.stores.values()) st.rollback();
      this.opts.onAborted?.();
      this.opts.log?.(`batch aborted, re-reading ${batch.length} records: ${e.message}`);
      await abortTransaction(this.producer, this.opts.transactionTimeoutMs).catch((ae) => {
        throw new Error(`abort failed after "${e.message}": ${asError(ae).message}`);
      });
      // Rewind so the aborted inputs are processed again (partitions revoked meanwhile are skipped).
      for (const tpo of first.values()) {
        await seek(this.consumer, tpo).catch((se) => {
          // Still ours and not rewound: going on would skip the aborted records for good. (Revoked, or
          // reassigned since this consume began: the assignment starts from the committed offset anyway.)
          const reassigned = (this.assignedEpoch.get(`${tpo.topic}\u0000${tpo.partition}`) ?? 0) > this.consumeEpoch;
          if (this.owned.get(tpo.partition)?.has(tpo.topic) && !reassigned) throw new Error(`could not rewind ${tpo.topic}[${tpo.partition}] to ${tpo.offset} after an aborted batch: ${asError(se).message}`);
        });
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
  private afterFailure(err: unknown, e: Error): void {
    for (const st of this.stores.values()) st.rollback();
    this.opts.onAborted?.();
    const fatal = this.fatalError(err, e);
    if (fatal) throw fatal;
  }

  /** The error that stops the processor when a failure is fatal (librdkafka says so, or this producer is fenced); undefined when aborting is enough. */
  private fatalError(err: unknown, e: Error): Error | undefined {
    if ((err as { isFatal?: boolean }).isFatal === true || /fenced/i.test(e.message)) return new Error(`transactional processor ${this.opts.transactionalId} must stop: ${e.message}`);
    return undefined;
  }

  /** Output records, then the stores' pending writes as changelog records on their own partition. */
  private produceAll(outputs: OutputRecord[]): void {
    for (const o of outputs) {
      this.producer.produce(o.topic, null, o.value, o.key === null ? null : Buffer.from(o.key), o.timestamp ?? Date.now());
    }
    const spec = this.opts.store;
    if (!spec) return;
    for (const st of this.stores.values()) {
      // Explicit partition: changelog partition p is input partition p, whatever the partitioner.
      for (const [k, v] of st.pending()) this.producer.produce(spec.changelogTopic, st.partition, v === null ? null : spec.encode(v), Buffer.from(k), Date.now());
    }
  }

  /** Timers: a transaction of their own with the punctuator's outputs and store writes. */
  private async runPunctuation(): Promise<void> {
    try {
      await beginTransaction(this.producer);
      const outputs = await this.opts.punctuate!(Date.now(), this.ctx);
      this.produceAll(outputs);
      await commitTransaction(this.producer, this.opts.transactionTimeoutMs);
      this.afterCommit(outputs.length);
    } catch (err) {
      const e = asError(err);
      this.stats.lastError = e.message;
      this.afterFailure(err, e);
      this.stats.aborts += 1;
      await abortTransaction(this.producer, this.opts.transactionTimeoutMs).catch(() => {});
    }
  }

  async stop(): Promise<void> {
    const wasRunning = this.running;
    this.running = false;
    let loopFailed = false;
    await this.loop?.catch(() => (loopFailed = true));
    // A clean stop is a handover too: its transaction commits before the consumer leaves.
    const parts = this.ctx.partitions();
    if (this.opts.onRevoking && wasRunning && !loopFailed && parts.length > 0) {
      await this.hookTransaction(`handing over partitions ${parts.join(',')} on stop`, () => this.opts.onRevoking!(parts, this.ctx)).catch((e) => this.opts.log?.(asError(e).message));
    }
    await disconnect(this.consumer);
    await disconnect(this.producer);
    await this.restorer?.close();
  }
}
