// A key-value state store for one input partition (Kafka Streams' model):
// reads see this batch's own writes first; writes are buffered until the
// batch's transaction commits (then applied) or aborts (then discarded), so
// the in-memory state never runs ahead of what the changelog holds.
export class PartitionStore<V> {
  private readonly committed = new Map<string, V>();
  private readonly dirty = new Map<string, V | null>();

  constructor(readonly partition: number) {}

  get(key: string): V | undefined {
    if (this.dirty.has(key)) return this.dirty.get(key) ?? undefined;
    return this.committed.get(key);
  }

  put(key: string, value: V): void {
    this.dirty.set(key, value);
  }

  delete(key: string): void {
    this.dirty.set(key, null);
  }

  /** Restoration from the changelog (a tombstone is null). */
  restore(key: string, value: V | null): void {
    if (value === null) this.committed.delete(key);
    else this.committed.set(key, value);
  }

  /** Writes of the current batch, for the changelog. */
  pending(): IterableIterator<[string, V | null]> {
    return this.dirty.entries();
  }

  get hasPending(): boolean {
    return this.dirty.size > 0;
  }

  commit(): void {
    for (const [k, v] of this.dirty) this.restore(k, v);
    this.dirty.clear();
  }

  rollback(): void {
    this.dirty.clear();
  }

  get size(): number {
    return this.committed.size;
  }

  /** Committed entries (timers and queries scan these). */
  entries(): IterableIterator<[string, V]> {
    return this.committed.entries();
  }
}
