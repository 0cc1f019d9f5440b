// Values kept as bytes in one growing buffer per store, indexed by key: a
// million small values cost a Map entry and their bytes, not a Buffer object
// (~100 B of heap each) per value. A value's slot is [u32 length][bytes]; an
// overwritten or deleted slot is garbage until the buffer fills, then the live
// slots are copied into a new buffer sized for them (compaction and growth in one).

/** Free room a compaction leaves, as a share of the live bytes: writes between copies vs. idle overhead. */
const HEADROOM = 0.125;
const MIN_CAPACITY = 64 * 1024;
const LENGTH_BYTES = 4;

export class ByteSlab {
  private buf = Buffer.allocUnsafeSlow(MIN_CAPACITY);
  private used = 0;
  /** Bytes of live slots (header included). */
  private live = 0;
  /** Offset of each key's slot (a small integer, so V8 keeps it unboxed in the Map). */
  private readonly index = new Map<string, number>();

  get size(): number {
    return this.index.size;
  }

  /** Off-heap bytes held (capacity), for accounting. */
  get capacity(): number {
    return this.buf.length;
  }

  has(key: string): boolean {
    return this.index.has(key);
  }

  /** A view of the key's bytes: valid until the next set/delete (a compaction moves them). */
  get(key: string): Buffer | undefined {
    const at = this.index.get(key);
    return at === undefined ? undefined : this.slot(at);
  }

  set(key: string, bytes: Uint8Array): void {
    const need = LENGTH_BYTES + bytes.length;
    const old = this.index.get(key);
    if (old !== undefined) this.live -= LENGTH_BYTES + this.buf.readUInt32LE(old);
    if (this.used + need > this.buf.length) this.compact(need, old === undefined ? undefined : key);
    const at = this.used;
    this.buf.writeUInt32LE(bytes.length, at);
    this.buf.set(bytes, at + LENGTH_BYTES);
    this.used += need;
    this.live += need;
    this.index.set(key, at);
  }

  /**
   * Makes room for `bytes` more value bytes in `count` slots at once: a restore that knows
   * what it will add (a checkpoint) grows the buffer once instead of compacting every
   * 12.5% of growth (at 80k keys per partition that was ~45 copies of the slab and its index).
   */
  reserve(bytes: number, count: number): void {
    const need = bytes + count * LENGTH_BYTES;
    if (this.used + need > this.buf.length) this.compact(need, undefined);
  }

  delete(key: string): boolean {
    const at = this.index.get(key);
    if (at === undefined) return false;
    this.live -= LENGTH_BYTES + this.buf.readUInt32LE(at);
    this.index.delete(key);
    return true;
  }

  keys(): IterableIterator<string> {
    return this.index.keys();
  }

  /** Every key with a view of its bytes (views valid until the next write). */
  *entries(): IterableIterator<[string, Buffer]> {
    for (const [key, at] of this.index) yield [key, this.slot(at)];
  }

  private slot(at: number): Buffer {
    const len = this.buf.readUInt32LE(at);
    return this.buf.subarray(at + LENGTH_BYTES, at + LENGTH_BYTES + len);
  }

  /**
   * Copies the live slots into a buffer with room for `need` more bytes and the
   * headroom. `skip`: a key being overwritten (its old slot is not copied; it
   * stays in the index until the caller sets its new offset).
   */
  private compact(need: number, skip: string | undefined): void {
    const wanted = Math.max(MIN_CAPACITY, Math.ceil((this.live + need) * (1 + HEADROOM)));
    const next = Buffer.allocUnsafeSlow(wanted);
    let used = 0;
    for (const [key, at] of this.index) {
      if (key === skip) continue;
      const len = LENGTH_BYTES + this.buf.readUInt32LE(at);
      this.buf.copy(next, used, at, at + len);
      this.index.set(key, used);
      used += len;
    }
    this.buf = next;
    this.used = used;
  }
}
