// The records a processor member has consumed and not yet processed, per input topic
// partition (Kafka Streams' PartitionGroup with max.task.idle.ms). A partition number's
// co-partitioned inputs (signaling, SUBSCRIBEs, reports) are applied in timestamp order:
// the record with the smallest timestamp goes next, each partition's records stay in
// offset order. Across batches too: while one input of a partition number has nothing
// buffered and its end is not known, the others' records wait for it (a SUBSCRIBE stamped
// later must not run ahead of older signaling still on the broker), up to `maxIdleMs`;
// then they go anyway ("enforced", as Streams counts it).
//
// An input's end is known from librdkafka's partition EOF (enable.partition.eof), which
// names the read_committed end offset the fetch reached: the input is caught up while no
// record at or past that offset was consumed since. The cached high watermark would not
// do: it sits above open transactions, which the taps always have.
import type { Message } from './rdkafkaPromises.ts';

/** A topic partition as a map key (ownership, offsets and buffers of a processor member). */
export const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

interface Queue {
  readonly topic: string;
  readonly partition: number;
  records: Message[];
  /** Index of the next record to take (records before it are taken). */
  head: number;
  /** The ownership epoch the records were consumed in (a later (re)assignment makes them stale). */
  epoch: number;
  /** Timestamp of the last record taken: a record without one keeps its place behind it. */
  last: number;
}

/** An offset learnt in an ownership epoch: it says nothing once the partition is (re)assigned after it. */
interface Known {
  readonly offset: number;
  readonly epoch: number;
}

export interface TakenBatch {
  readonly records: Message[];
  /** Partition numbers whose records went without waiting out an input whose end was unknown. */
  readonly enforced: number;
}

export class PartitionGroup {
  private readonly queues = new Map<string, Queue>();
  /** Next offset after the last record consumed, per input partition, with the ownership epoch it came in. */
  private readonly received = new Map<string, Known>();
  /** The end offset of the last partition EOF, per input partition, with the ownership epoch it came in. */
  private readonly ends = new Map<string, Known>();
  /** Since when a partition number has had records waiting on an input whose end is unknown. */
  private readonly waitingSince = new Map<number, number>();
  private count = 0;
  /** Where the next take starts among the partition numbers with records. */
  private turn = 0;

  /**
   * @param maxIdleMs how long records wait for a co-partitioned input whose end is not
   *   known (0: never; records are then ordered only among those consumed so far)
   */
  constructor(private readonly maxIdleMs: number) {}

  /** Records consumed and not taken. */
  get size(): number {
    return this.count;
  }

  /** librdkafka's partition EOF: `topic`[`partition`] was read up to `offset`, its read_committed end (in ownership `epoch`). */
  atEnd(topic: string, partition: number, offset: number, epoch: number): void {
    this.ends.set(tpKey(topic, partition), { offset, epoch });
  }

  /** Records of one consume, in the ownership epoch it began in (pruned when a partition is (re)assigned after it). */
  add(messages: readonly Message[], epoch: number): void {
    for (const m of messages) {
      const k = tpKey(m.topic, m.partition);
      let q = this.queues.get(k);
      if (!q) this.queues.set(k, (q = { topic: m.topic, partition: m.partition, records: [], head: 0, epoch: 0, last: -Infinity }));
      if (q.head === q.records.length) q.epoch = epoch;
      q.records.push(m);
      this.received.set(k, { offset: m.offset + 1, epoch });
      this.count++;
    }
  }

  /** How many records of `topic`[`partition`] wait to be taken. */
  waiting(topic: string, partition: number): number {
    const q = this.queues.get(tpKey(topic, partition));
    return q === undefined ? 0 : q.records.length - q.head;
  }

  /**
   * Forgets what was consumed of `topic`[`partition`]: the consumer reads it again from an
   * offset set elsewhere (a rewind, a (re)assignment, a revocation), and what is known of its
   * end up to ownership epoch `upTo` (a later assignment's EOF stays). Returns the first
   * record not taken, if any (where a rewind of the untaken records goes).
   */
  drop(topic: string, partition: number, upTo = Infinity): Message | undefined {
    const k = tpKey(topic, partition);
    const q = this.queues.get(k);
    this.queues.delete(k);
    if ((this.received.get(k)?.epoch ?? Infinity) <= upTo) this.received.delete(k);
    if ((this.ends.get(k)?.epoch ?? Infinity) <= upTo) this.ends.delete(k);
    if (!q) return undefined;
    this.count -= q.records.length - q.head;
    return q.records[q.head];
  }

  /** Buffered input partitions with the epoch their records were consumed in. */
  buffered(): Array<{ topic: string; partition: number; epoch: number }> {
    return [...this.queues.values()].filter((q) => q.head < q.records.length).map(({ topic, partition, epoch }) => ({ topic, partition, epoch }));
  }

  /** Known read to its end since it was last (re)assigned, in epoch `since`. */
  private caughtUp(topic: string, partition: number, since: number): boolean {
    const k = tpKey(topic, partition);
    const end = this.ends.get(k);
    if (end === undefined || end.epoch < since) return false;
    const received = this.received.get(k);
    return received === undefined || received.epoch < since || end.offset >= received.offset;
  }

  /**
   * Up to `max` records in processing order. A partition number's records are taken while
   * each of its `inputs` either has records buffered or is known caught up; otherwise they
   * wait, up to maxIdleMs since they first did. `assignedIn`: the ownership epoch an input
   * partition was last (re)assigned in (what was learnt of it before says nothing).
   */
  take(max: number, now: number, inputs: (partition: number) => Iterable<string>, assignedIn: (topic: string, partition: number) => number): TakenBatch {
    const out: Message[] = [];
    let enforced = 0;
    const byPartition = new Map<number, Queue[]>();
    for (const q of this.queues.values()) {
      if (q.head === q.records.length) continue;
      let qs = byPartition.get(q.partition);
      if (!qs) byPartition.set(q.partition, (qs = []));
      qs.push(q);
    }
    // A wait ends with its records (taken, or dropped and read again): the next one counts afresh.
    for (const p of [...this.waitingSince.keys()]) if (!byPartition.has(p)) this.waitingSince.delete(p);
    // Round robin over the partition numbers: with more buffered than one batch takes, the first
    // partitions must not keep the batch to themselves.
    const order = [...byPartition.keys()].sort((a, b) => a - b);
    const start = order.length === 0 ? 0 : this.turn++ % order.length;
    for (let i = 0; i < order.length; i++) {
      if (out.length >= max) break;
      const partition = order[(start + i) % order.length]!;
      const queues = byPartition.get(partition)!;
      const others = [...inputs(partition)].filter((t) => !queues.some((q) => q.topic === t));
      const unknown = others.some((t) => !this.caughtUp(t, partition, assignedIn(t, partition)));
      let enforce = false;
      if (unknown) {
        const since = this.waitingSince.get(partition) ?? now;
        this.waitingSince.set(partition, since);
        if (now - since < this.maxIdleMs) continue;
        enforce = true;
        enforced++;
      }
      this.waitingSince.delete(partition);
      this.merge(partition, queues, max, out, enforce ? undefined : (t) => this.caughtUp(t, partition, assignedIn(t, partition)));
    }
    this.compact();
    return { records: out, enforced };
  }

  /**
   * Takes a partition number's records, smallest timestamp first, until `max`, or until an
   * input runs dry whose end is not known (unless enforced: then until all are taken).
   */
  private merge(partition: number, queues: Queue[], max: number, out: Message[], caughtUp: ((topic: string) => boolean) | undefined): void {
    const ts = (q: Queue) => q.records[q.head]!.timestamp ?? q.last;
    while (out.length < max) {
      let best: Queue | undefined;
      let dry = false;
      for (const q of queues) {
        if (q.head === q.records.length) {
          if (caughtUp && !caughtUp(q.topic)) dry = true;
          continue;
        }
        if (best === undefined || ts(q) < ts(best)) best = q;
      }
      // Records left behind a dry input wait for it (the next take counts from then).
      if (best === undefined || dry) return;
      best.last = ts(best);
      out.push(best.records[best.head++]!);
      this.count--;
    }
  }

  /** Frees taken records' slots. */
  private compact(): void {
    for (const q of this.queues.values())
      if (q.head > 0 && q.head * 2 >= q.records.length) {
        q.records = q.records.slice(q.head);
        q.head = 0;
      }
  }
}
