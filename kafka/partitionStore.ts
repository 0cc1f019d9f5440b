// A key-value state store for one input partition (Kafka Streams' model):
// reads see this batch's own writes first; writes are buffered until the
// batch's transaction commits (then applied) or aborts (then discarded), so
// the in-memory state never runs ahead of what the changelog holds.
//
// With a codec the committed values are kept ENCODED — the very bytes the
// changelog got (byteSlab.ts) — and decoded on each read: a million idle
// values cost their bytes, not their object graphs, and a read hands out a
// fresh object the caller may change (no defensive copy). Pending writes stay
// live objects; each is encoded once, for the changelog and the commit both.
import { ByteSlab } from './byteSlab.ts';

/** How a store keeps its committed values as bytes (the changelog's encoding). */
export interface StoreCodec<V> {
  encode(value: V): Buffer;
  /** Decodes bytes `encode` wrote (a fresh value on every call; it must not keep views of `bytes`, which move). */
  decode(bytes: Buffer): V;
  /** Whether changelog bytes are in the current encoding, so they can be kept as they are (else: decoded, then encoded again). */
  isCurrent(bytes: Buffer): boolean;
}

/** The codec a store of a StoreSpec (processorTypes.ts) keeps its committed values with; undefined: kept as objects. */
export function storeCodec<V>(
  spec: { encode(value: V): Buffer; compact?: Pick<StoreCodec<V>, 'decode' | 'isCurrent'> } | undefined,
): StoreCodec<V> | undefined {
  return spec?.compact ? { encode: spec.encode, decode: spec.compact.decode, isCurrent: spec.compact.isCurrent } : undefined;
}

/** Something that commits and rolls back with a store's batch (e.g. an index of the batch's keys). */
export interface StoreParticipant {
  commit(): void;
  rollback(): void;
}

export class PartitionStore<V> {
  /** Without a codec: the committed values as objects. */
  private readonly committed = new Map<string, V>();
  /** With a codec: the committed values' bytes. */
  private readonly slab: ByteSlab | undefined;
  private readonly dirty = new Map<string, V | null>();
  /** The dirty values' encodings, made once by pendingEncoded() and reused by commit(). */
  private readonly encoded = new Map<string, Buffer>();
  private readonly participants: StoreParticipant[] = [];

  constructor(
    readonly partition: number,
    private readonly codec?: StoreCodec<V>,
  ) {
    if (codec) this.slab = new ByteSlab();
  }

  /** Whether committed values are kept encoded (reads then decode a fresh value). */
  get compact(): boolean {
    return this.slab !== undefined;
  }

  get(key: string): V | undefined {
    if (this.dirty.has(key)) return this.dirty.get(key) ?? undefined;
    return this.committedValue(key);
  }

  /**
   * A value the caller may change in place and then put() — or drop, its changes
   * gone: a fresh decode of the committed bytes, else `copy` of the value held
   * (this batch's write, or a committed object whose change would survive an abort).
   */
  getForUpdate(key: string, copy: (v: V) => V): V | undefined {
    if (this.dirty.has(key)) {
      const v = this.dirty.get(key);
      return v === null || v === undefined ? undefined : copy(v);
    }
    if (this.slab) return this.committedValue(key);
    const v = this.committed.get(key);
    return v === undefined ? undefined : copy(v);
  }

  /** Whether `key` has a value (committed, or written in this batch). */
  has(key: string): boolean {
    if (this.dirty.has(key)) return this.dirty.get(key) !== null;
    return this.slab ? this.slab.has(key) : this.committed.has(key);
  }

  put(key: string, value: V): void {
    this.dirty.set(key, value);
    this.encoded.delete(key);
  }

  delete(key: string): void {
    this.dirty.set(key, null);
    this.encoded.delete(key);
  }

  /** Restoration from the changelog (a tombstone is null). */
  restore(key: string, value: V | null): void {
    if (value === null) this.forget(key);
    else if (this.slab) this.slab.set(key, this.codec!.encode(value));
    else this.committed.set(key, value);
  }

  /** Whether restoreEncoded() takes these changelog bytes as they are (a compact store, the current encoding). */
  acceptsEncoded(bytes: Buffer): boolean {
    return this.codec !== undefined && this.codec.isCurrent(bytes);
  }

  /** Before restoring `count` values of `bytes` bytes in all: a compact store grows its slab once. */
  reserveEncoded(bytes: number, count: number): void {
    this.slab?.reserve(bytes, count);
  }

  /** Restoration from changelog bytes in the current encoding (see acceptsEncoded): kept without decoding. */
  restoreEncoded(key: string, bytes: Buffer): void {
    if (this.slab) this.slab.set(key, bytes);
    else this.committed.set(key, this.codec!.decode(bytes));
  }

  /** Writes of the current batch, for the changelog. */
  pending(): IterableIterator<[string, V | null]> {
    return this.dirty.entries();
  }

  /** Writes of the current batch encoded (once: commit() keeps these bytes), for the changelog. */
  *pendingEncoded(encode: (value: V) => Buffer): IterableIterator<[string, Buffer | null]> {
    for (const [k, v] of this.dirty) {
      if (v === null) {
        yield [k, null];
        continue;
      }
      let bytes = this.encoded.get(k);
      if (!bytes) this.encoded.set(k, (bytes = encode(v)));
      yield [k, bytes];
    }
  }

  get hasPending(): boolean {
    return this.dirty.size > 0;
  }

  /** Takes part in this store's commits and rollbacks. */
  enlist(p: StoreParticipant): void {
    if (!this.participants.includes(p)) this.participants.push(p);
  }

  commit(): void {
    for (const [k, v] of this.dirty) {
      if (v === null) this.forget(k);
      else if (this.slab) this.slab.set(k, this.encoded.get(k) ?? this.codec!.encode(v));
      else this.committed.set(k, v);
    }
    this.dirty.clear();
    this.encoded.clear();
    for (const p of this.participants) p.commit();
  }

  rollback(): void {
    this.dirty.clear();
    this.encoded.clear();
    for (const p of this.participants) p.rollback();
  }

  get size(): number {
    return this.slab ? this.slab.size : this.committed.size;
  }

  /** Committed keys (cheap: nothing decoded). */
  keys(): IterableIterator<string> {
    return this.slab ? this.slab.keys() : this.committed.keys();
  }

  /** Committed entries (timers and queries scan these); a compact store decodes each. */
  *entries(): IterableIterator<[string, V]> {
    if (!this.slab) {
      yield* this.committed.entries();
      return;
    }
    for (const [k, bytes] of this.slab.entries()) yield [k, this.codec!.decode(bytes)];
  }

  /**
   * Committed entries as changelog bytes (encoded with `encode` when the store has no codec), e.g. for a
   * snapshot. A compact store yields views of its buffer: copy or write them out before the next commit or restore.
   */
  *encodedEntries(encode: (value: V) => Buffer): IterableIterator<[string, Buffer]> {
    if (this.slab) {
      yield* this.slab.entries();
      return;
    }
    for (const [k, v] of this.committed) yield [k, encode(v)];
  }

  /** Off-heap bytes the committed values take (0 without a codec). */
  get encodedBytes(): number {
    return this.slab?.capacity ?? 0;
  }

  private committedValue(key: string): V | undefined {
    if (!this.slab) return this.committed.get(key);
    const bytes = this.slab.get(key);
    return bytes === undefined ? undefined : this.codec!.decode(bytes);
  }

  private forget(key: string): void {
    if (this.slab) this.slab.delete(key);
    else this.committed.delete(key);
  }
}
