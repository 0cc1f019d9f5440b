// How far this member's COMMITTED changelog writes reach, per changelog partition:
// the offset a state checkpoint may vouch for (Kafka Streams takes it from its
// record collector's delivery callbacks the same way). Delivery reports carry the
// offsets but say nothing of the transaction; librdkafka reports a partition's
// records in the order they were produced, and transactions run one after another,
// so the reports are matched to transactions by counting: a FIFO of transaction
// segments per partition, each with the records still to be reported.
//
// Only committed records count. An aborted transaction's records are ignored: if
// this member lost the partition meanwhile (a zombie), the new owner's records may
// lie between them, and a checkpoint vouching for them would skip those.

interface Segment {
  /** Records produced in this transaction whose reports have not arrived. */
  unreported: number;
  /** Highest offset reported so far for this transaction's records. */
  maxOffset: number;
  outcome: 'open' | 'committed' | 'aborted';
}

export class ChangelogOffsets {
  /** Last changelog offset whose record the committed state includes, per partition (the store's checkpoint offset). */
  private readonly upTo = new Map<number, number>();
  private readonly segments = new Map<number, Segment[]>();
  /** The open transaction's segment per partition. */
  private readonly open = new Map<number, Segment>();

  /** A store was restored reading up to (not including) `endOffset`: its state holds everything before. */
  restored(partition: number, endOffset: number): void {
    this.upTo.set(partition, endOffset - 1);
    this.segments.delete(partition);
    this.open.delete(partition);
  }

  /** The partition left this member: no checkpoint is written for it any more. */
  forget(partition: number): void {
    this.upTo.delete(partition);
  }

  /** A changelog record was queued in the open transaction. */
  produced(partition: number): void {
    let seg = this.open.get(partition);
    if (!seg) {
      seg = { unreported: 0, maxOffset: -1, outcome: 'open' };
      this.open.set(partition, seg);
      let fifo = this.segments.get(partition);
      if (!fifo) this.segments.set(partition, (fifo = []));
      fifo.push(seg);
    }
    seg.unreported++;
  }

  /** The open transaction committed (true) or aborted (false). */
  settle(committed: boolean): void {
    for (const [p, seg] of this.open) {
      seg.outcome = committed ? 'committed' : 'aborted';
      this.advance(p);
    }
    this.open.clear();
  }

  /** A delivery report of a changelog record (offset < 0 or `ok` false: not written). */
  reported(partition: number, offset: number, ok: boolean): void {
    const seg = this.segments.get(partition)?.[0];
    if (!seg) return; // produced before this partition's last restore: not ours to count
    seg.unreported--;
    if (ok && offset > seg.maxOffset) seg.maxOffset = offset;
    this.advance(partition);
  }

  /** Applies settled segments at the head of the partition's FIFO; a committed one moves the offset on as its reports arrive. */
  private advance(partition: number): void {
    const fifo = this.segments.get(partition);
    if (!fifo) return;
    while (fifo.length > 0) {
      const seg = fifo[0]!;
      if (seg.outcome === 'committed' && this.upTo.has(partition) && seg.maxOffset > this.upTo.get(partition)!) this.upTo.set(partition, seg.maxOffset);
      if (seg.outcome === 'open' || seg.unreported > 0) return;
      fifo.shift();
    }
  }

  /** The last changelog offset the partition's committed state is known to include (a lower bound while reports are outstanding). */
  offset(partition: number): number | undefined {
    return this.upTo.get(partition);
  }
}
