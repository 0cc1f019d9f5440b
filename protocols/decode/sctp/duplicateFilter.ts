// Drops retransmitted SCTP DATA chunks. A mirror port sees every copy the
// sender puts on the wire (T3 and fast retransmissions), and the layers above
// would otherwise decode the same MAP or ISUP message twice. Per association
// direction we keep an anti-replay style window: the highest TSN seen and a
// bitmap of the WINDOW TSNs below it. The caller picks the numeric key (the
// dissector uses verification tag and source port: no string per packet).

interface SctpDuplicateFilterOptions {
  /** Association directions tracked; the oldest are forgotten beyond. Default 65536. */
  maxAssociations?: number;
}

const WINDOW = 1024;
const WORDS = WINDOW / 32;

interface TsnWindow {
  highest: number;
  /** Bit i set: TSN (highest - i) seen. */
  bits: Uint32Array;
}

export class SctpDuplicateFilter {
  duplicates = 0;
  private readonly windows = new Map<number, TsnWindow>();
  private readonly maxAssociations: number;

  constructor(opts: SctpDuplicateFilterOptions = {}) {
    this.maxAssociations = opts.maxAssociations ?? 65536;
  }

  /** Records `tsn` for `assoc`; true if it was seen before (or is too old to tell, so most likely a late copy). */
  isDuplicate(assoc: number, tsn: number): boolean {
    let w = this.windows.get(assoc);
    if (w === undefined) {
      if (this.windows.size >= this.maxAssociations) {
        const oldest = this.windows.keys().next().value;
        if (oldest !== undefined) this.windows.delete(oldest);
      }
      w = { highest: tsn, bits: new Uint32Array(WORDS) };
      w.bits[0] = 1;
      this.windows.set(assoc, w);
      return false;
    }
    const ahead = (tsn - w.highest) | 0;
    if (ahead > 0) {
      shift(w.bits, ahead);
      w.bits[0]! |= 1;
      w.highest = tsn >>> 0;
      return false;
    }
    const behind = -ahead;
    if (behind >= WINDOW) {
      this.duplicates++;
      return true;
    }
    const word = behind >>> 5;
    const bit = 1 << (behind & 31);
    if (w.bits[word]! & bit) {
      this.duplicates++;
      return true;
    }
    w.bits[word]! |= bit;
    return false;
  }

  /** Forgets an association direction (e.g. after ABORT or SHUTDOWN COMPLETE). */
  forget(assoc: number): void {
    this.windows.delete(assoc);
  }
}

/** Moves every bit `n` places up (older), dropping those that leave the window. */
function shift(bits: Uint32Array, n: number): void {
  if (n >= WINDOW) {
    bits.fill(0);
    return;
  }
  const words = n >>> 5;
  const r = n & 31;
  for (let i = WORDS - 1; i >= 0; i--) {
    const src = i - words;
    let v = src >= 0 ? bits[src]! << r : 0;
    if (r !== 0 && src - 1 >= 0) v |= bits[src - 1]! >>> (32 - r);
    bits[i] = v >>> 0;
  }
}
