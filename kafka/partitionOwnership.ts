// Which input partitions a processor member owns, and what moves with them
// (Kafka Streams' TaskManager): the rebalance callback assigns them, and queues
// every revocation; the loop applies it between batches (after the handover
// transaction, if any), never under a batch in flight: node-rdkafka delivers the
// callback at any await. Records consumed across a rebalance are held back and read
// again. It also keeps the owned partitions' committed offsets, which every
// transaction carries so the group coordinator fences a member that left (KIP-447).
import Kafka from 'node-rdkafka';
import type { ExactlyOnceProducer } from './exactlyOnceProducer.ts';
import type { OwnedPartitions } from './ownedPartitions.ts';
import { tpKey, type PartitionGroup } from './partitionGroup.ts';
import type { ResolvedProcessorOptions } from './processorTypes.ts';
import type { RestoreStateMachine } from './restoreStateMachine.ts';
import type { StateCheckpointer } from './stateCheckpointer.ts';
import { asError, committed, lowWatermark, seek, type Consumer, type Message, type TopicPartitionOffset } from './rdkafkaPromises.ts';

const { CODES } = Kafka;

export class PartitionOwnership<V> {
  private epoch = 0;
  /** The group has given this member an assignment at least once (readiness: not ready while still joining). */
  joined = false;
  private consumeEpoch = 0;
  private readonly assignedEpoch = new Map<string, number>();
  /** Revocations held until the loop is between batches (and has committed their handover transaction). */
  private readonly pendingRevokes: Array<{ consumer: Consumer; assignment: Kafka.Assignment[]; cooperative: boolean }> = [];
  /** Next offset per owned input topic partition as last committed (by this member, or before it got it): every transaction re-sends them so the group fences it. */
  private readonly committedNext = new Map<string, TopicPartitionOffset>();

  constructor(
    private readonly opts: ResolvedProcessorOptions<V>,
    private readonly partitions: OwnedPartitions<V>,
    /** Only for a processor with a store. */
    private readonly restores: RestoreStateMachine<V> | undefined,
    private readonly producer: ExactlyOnceProducer<V>,
    private readonly consumer: Consumer,
    /** Whether the loop runs (and so can run a handover transaction). */
    private readonly looping: () => boolean,
    /** With local state checkpoints: a released store's last state is written. */
    private readonly checkpointer?: StateCheckpointer<V>,
  ) {}

  /** librdkafka's rebalance callback. */
  rebalance(consumer: Consumer, err: Kafka.LibrdKafkaError, assignment: Kafka.Assignment[]): void {
    const cooperative = consumer.rebalanceProtocol() === 'COOPERATIVE';
    try {
      if (err.code === CODES.ERRORS.ERR__ASSIGN_PARTITIONS) {
        this.opts.log?.(`assigned ${assignment.map((a) => `${a.topic}[${a.partition}]`).join(' ') || '(none)'}`);
        this.joined = true;
        if (cooperative) consumer.incrementalAssign(assignment);
        else consumer.assign(assignment);
        for (const a of assignment) this.partitions.topics(a.partition).add(a.topic);
        this.epoch++;
        for (const a of assignment) this.assignedEpoch.set(tpKey(a.topic, a.partition), this.epoch);
        // With a store the restore fetches the committed offsets (and seeds them) before its hook runs.
        if (this.restores) this.restores.start(consumer, assignment);
        else void this.seedCommitted(consumer, assignment).catch((e) => this.opts.log?.(`committed offsets not known: ${asError(e).message}`));
        this.partitions.onChange?.(consumer);
        this.opts.onAssigned?.(assignment);
      } else if (err.code === CODES.ERRORS.ERR__REVOKE_PARTITIONS) {
        this.opts.log?.(`revoked ${assignment.map((a) => `${a.topic}[${a.partition}]`).join(' ') || '(none)'}`);
        // Applied by the loop between batches (librdkafka waits for the unassign): the batch in
        // flight keeps its stores and commits in the generation that still owns them.
        if (this.looping()) this.pendingRevokes.push({ consumer, assignment, cooperative });
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
    const { owned, stores, restoring } = this.partitions;
    for (const a of assignment) {
      const topics = this.partitions.topics(a.partition);
      topics.delete(a.topic);
      if (topics.size > 0) continue;
      owned.delete(a.partition);
      const store = stores.get(a.partition);
      if (store && !restoring.has(a.partition)) this.checkpointer?.leaving(store);
      stores.delete(a.partition);
      restoring.delete(a.partition);
    }
    for (const a of assignment) this.committedNext.delete(tpKey(a.topic, a.partition));
    if (cooperative) consumer.incrementalUnassign(assignment);
    else consumer.unassign();
    this.partitions.onChange?.(consumer);
  }

  /** Partitions whose store goes with this revocation (the last of their co-partitioned topics), restored ones only. */
  private leaving(assignment: Kafka.Assignment[]): number[] {
    const out: number[] = [];
    for (const p of new Set(assignment.map((a) => a.partition))) {
      const remaining = [...this.partitions.topics(p)].filter((t) => !assignment.some((a) => a.partition === p && a.topic === t));
      if (remaining.length === 0 && this.partitions.stores.has(p) && !this.partitions.restoring.has(p)) out.push(p);
    }
    return out.sort((a, b) => a - b);
  }

  /**
   * Revocations queued by the rebalance callback, with their handover transactions:
   * applied by the loop, between batches. The handover sends the owned partitions'
   * offsets before its hook runs: a member that lost them (no longer in the group's
   * generation) is refused there and drops the partitions without running the hook,
   * instead of writing behind the new owner.
   */
  async runHandovers(): Promise<void> {
    while (this.pendingRevokes.length > 0) {
      const r = this.pendingRevokes.shift()!;
      try {
        const parts = this.leaving(r.assignment);
        if (this.opts.onRevoking && parts.length > 0) {
          const what = `handing over partitions ${parts.join(',')}`;
          const outcome = await this.producer.hookTransaction(what, () => this.opts.onRevoking!(parts, this.partitions.ctx), this.fencingOffsets(), true);
          if (outcome === 'lost') this.opts.log?.(`assignment of partitions ${parts.join(',')} lost: released without handover`);
        }
      } finally {
        this.release(r.consumer, r.assignment, r.cooperative);
      }
    }
  }

  /** Whether `topic`[`partition`] is still this member's to commit (held, and with a store when there are stores). */
  owns(topic: string, partition: number): boolean {
    return this.partitions.holds(topic, partition) && (!this.opts.store || this.partitions.stores.has(partition));
  }

  /**
   * What a transaction sends as its consumed offsets: every owned partition's committed
   * offset, overlaid with `next` (the batch's own). The coordinator checks the member's
   * generation, not the partitions, so one stale offset fences it; re-committing an
   * unchanged offset is harmless.
   */
  fencingOffsets(next: Iterable<TopicPartitionOffset> = []): TopicPartitionOffset[] {
    const out = new Map<string, TopicPartitionOffset>();
    for (const [k, o] of this.committedNext) if (this.partitions.holds(o.topic, o.partition)) out.set(k, o);
    for (const o of next) out.set(tpKey(o.topic, o.partition), o);
    return [...out.values()];
  }

  /**
   * Seeds the committed offsets of newly assigned partitions (a partition the group never
   * committed: its low watermark, where auto.offset.reset=earliest starts anyway), so a
   * transaction before this member's first batch of them is fenced too.
   */
  async seedCommitted(consumer: Consumer, assignment: Kafka.TopicPartition[], known?: TopicPartitionOffset[]): Promise<void> {
    const offsets = known ?? (await committed(consumer, assignment, this.opts.transactionTimeoutMs));
    for (const o of offsets) {
      const offset = o.offset >= 0 ? o.offset : await lowWatermark(consumer, o.topic, o.partition);
      const k = tpKey(o.topic, o.partition);
      if (this.partitions.holds(o.topic, o.partition) && !this.committedNext.has(k))
        this.committedNext.set(k, { topic: o.topic, partition: o.partition, offset });
    }
  }

  /**
   * Held partitions whose consumer position went past their committed offset without a
   * record to process: a transactional producer's commit marker (or an aborted transaction)
   * takes offsets too, and the offset after the last record leaves the group a lag of 1
   * behind it for good. Only asked when a loop turn took nothing to process, and only of use
   * for partitions with no records waiting (the caller leaves the others out): every record
   * consumed of them was processed and committed, or aborted or held back and rewound (seek),
   * so nothing but markers lies between (Kafka Streams commits the position likewise, KAFKA-6607).
   */
  pastMarkers(consumer: Consumer): TopicPartitionOffset[] {
    const held = [...this.committedNext.values()].filter((o) => this.heldSinceConsume(o.topic, o.partition));
    if (held.length === 0) return [];
    const positions = consumer.position(held.map(({ topic, partition }) => ({ topic, partition })));
    const out: TopicPartitionOffset[] = [];
    for (const p of positions) {
      const c = this.committedNext.get(tpKey(p.topic, p.partition));
      if (c && typeof p.offset === 'number' && p.offset > c.offset) out.push({ topic: p.topic, partition: p.partition, offset: p.offset });
    }
    return out;
  }

  /**
   * After the producer was fenced or failed (processorLoop.ts recoverInPlace): every held
   * partition is closed dirty and opened again in place — its store (committed state and
   * all) dropped without a checkpoint and restored from the changelog, its input re-read
   * from the group's committed offset. The assignment stays: nobody else moves.
   */
  async reinitialize(consumer: Consumer): Promise<void> {
    const held = consumer.assignments().filter((a) => this.partitions.holds(a.topic, a.partition));
    for (const p of new Set(held.map((a) => a.partition))) {
      this.partitions.stores.delete(p);
      // A restore in flight is abandoned (restoreStateMachine.ts `current`); start() begins a new one.
      this.partitions.restoring.delete(p);
    }
    for (const a of held) this.committedNext.delete(tpKey(a.topic, a.partition));
    if (held.length === 0) return;
    const tps = held.map(({ topic, partition }) => ({ topic, partition }));
    const known = await committed(consumer, tps, this.opts.transactionTimeoutMs);
    for (const o of known) {
      const offset = o.offset >= 0 ? o.offset : await lowWatermark(consumer, o.topic, o.partition);
      await seek(consumer, { topic: o.topic, partition: o.partition, offset });
    }
    // Records consumed before now belong to the old epoch: held back, not processed.
    this.epoch++;
    for (const a of held) this.assignedEpoch.set(tpKey(a.topic, a.partition), this.epoch);
    if (this.restores) this.restores.start(consumer, held);
    else await this.seedCommitted(consumer, tps, known);
  }

  /** The loop ended: queued revocations are released without their handover. */
  releasePending(): void {
    for (const r of this.pendingRevokes.splice(0)) this.release(r.consumer, r.assignment, r.cooperative);
  }

  /** A consume begins: partitions (re)assigned from now on are held back from what it returns. */
  consumeStarting(): void {
    this.consumeEpoch = this.epoch;
  }

  /** Still ours, and not (re)assigned since the last consume began. */
  private heldSinceConsume(topic: string, partition: number): boolean {
    const reassigned = (this.assignedEpoch.get(tpKey(topic, partition)) ?? 0) > this.consumeEpoch;
    return this.partitions.holds(topic, partition) && !reassigned;
  }

  /**
   * Whether records of `topic`[`partition`] consumed in ownership epoch `since` may be processed
   * now: held, not (re)assigned since, and with a store, restored and whole.
   */
  private processable(topic: string, partition: number, since: number): boolean {
    if (!this.partitions.holds(topic, partition) || this.assignedEpochOf(topic, partition) > since) return false;
    return !this.opts.store || (this.partitions.stores.has(partition) && !this.partitions.restoring.has(partition) && !this.partitions.split.has(partition));
  }

  /** The ownership epoch `topic`[`partition`] was last (re)assigned or reinitialised in. */
  assignedEpochOf(topic: string, partition: number): number {
    return this.assignedEpoch.get(tpKey(topic, partition)) ?? 0;
  }

  /** The ownership epoch now (what a partition EOF arriving now is learnt in). */
  epochNow(): number {
    return this.epoch;
  }

  /** Whether records of `topic`[`partition`] consumed now could be processed (held, restored, whole). */
  processableNow(topic: string, partition: number): boolean {
    return this.processable(topic, partition, Infinity);
  }

  /** The ownership epoch the last consume began in: what it returned is buffered under it (pruneBuffered). */
  consumedEpoch(): number {
    return this.consumeEpoch;
  }

  /**
   * The consumed records that may be processed now. Records consumed across a rebalance:
   * a partition revoked, still restoring, or (re)assigned since this consume began is not
   * processed or committed now. Those still assigned to us are read again from their
   * first skipped record (seek purges what was prefetched; the loop consumes only after
   * this), the revoked ones are read by their new owner from the committed offset.
   */
  async holdBack(all: Message[]): Promise<Message[]> {
    const ours = (m: Message) => this.partitions.holds(m.topic, m.partition);
    const processable = (m: Message) => this.processable(m.topic, m.partition, this.consumeEpoch);
    const messages = all.filter(processable);
    if (messages.length < all.length) {
      this.opts.log?.(`held back ${all.length - messages.length} records consumed across a rebalance`);
      const rewind = new Map<string, TopicPartitionOffset>();
      for (const m of all) {
        const k = tpKey(m.topic, m.partition);
        if (!processable(m) && ours(m) && !rewind.has(k)) rewind.set(k, { topic: m.topic, partition: m.partition, offset: m.offset });
      }
      await this.seekBack(rewind.values());
    }
    return messages;
  }

  /**
   * Records consumed in an earlier loop turn and still waiting in `group` (their
   * co-partitioned inputs were behind) that may no longer be processed: dropped. Revoked,
   * or (re)assigned or reinitialised since they were consumed: the consumer reads the
   * partition again from its committed offset. Still held but not processable (restoring,
   * split): read again from the first dropped record.
   */
  async pruneBuffered(group: PartitionGroup): Promise<void> {
    const rewind: TopicPartitionOffset[] = [];
    for (const b of group.buffered()) {
      const stale = this.assignedEpochOf(b.topic, b.partition) > b.epoch;
      if (!stale && this.processableNow(b.topic, b.partition)) continue;
      // Stale: what was learnt since the (re)assignment (its EOF) stays.
      const first = group.drop(b.topic, b.partition, stale ? b.epoch : Infinity);
      if (!stale && first && this.partitions.holds(b.topic, b.partition)) rewind.push({ topic: b.topic, partition: b.partition, offset: first.offset });
    }
    if (rewind.length > 0) {
      this.opts.log?.(`held back the buffered records of ${rewind.length} partitions after a rebalance`);
      await this.seekBack(rewind);
    }
  }

  private async seekBack(rewind: Iterable<TopicPartitionOffset>): Promise<void> {
    for (const tpo of rewind) {
      await seek(this.consumer, tpo).catch((err) => {
        // Losing the position would skip records: stop rather than go on.
        throw new Error(`could not rewind ${tpo.topic}[${tpo.partition}] to ${tpo.offset} after a rebalance: ${asError(err).message}`);
      });
    }
  }

  /**
   * Rewinds an aborted batch's partitions to its first offsets so its inputs are
   * processed again (partitions revoked meanwhile are skipped).
   */
  async rewind(first: Iterable<TopicPartitionOffset>): Promise<void> {
    for (const tpo of first) {
      await seek(this.consumer, tpo).catch((se) => {
        // Still ours and not rewound: going on would skip the aborted records for good. (Revoked, or
        // reassigned since this consume began: the assignment starts from the committed offset anyway.)
        if (this.heldSinceConsume(tpo.topic, tpo.partition))
          throw new Error(`could not rewind ${tpo.topic}[${tpo.partition}] to ${tpo.offset} after an aborted batch: ${asError(se).message}`);
      });
    }
  }

  /** A batch's offsets committed: what a handover of these partitions re-sends. */
  committed(next: Iterable<TopicPartitionOffset>): void {
    for (const o of next) this.committedNext.set(tpKey(o.topic, o.partition), o);
  }
}
