// Reassembles fragmented IP datagrams (IPv4 and IPv6 alike). Bounded: each
// datagram waits at most `timeoutMs` of capture time, and when buffered bytes
// exceed `maxBytes` (or datagrams exceed `maxDatagrams`) the oldest are
// dropped. Overlaps keep the bytes that arrived first (a later copy cannot
// rewrite what was already seen, the usual defence against overlap tricks).
import { DecodeError } from '../layer.ts';

export interface FragmentReassemblerOptions {
  /** How long a datagram may wait for its missing fragments, in capture-time ms. Default 30 s. */
  timeoutMs?: number;
  /** Bytes buffered over all datagrams. Default 16 MiB. */
  maxBytes?: number;
  /** Datagrams in progress. Default 4096. */
  maxDatagrams?: number;
}

export interface FragmentStats {
  fragments: number;
  reassembled: number;
  overlaps: number;
  timedOut: number;
  evicted: number;
  /** Datagrams dropped because fragments contradicted each other. */
  dropped: number;
}

interface Piece {
  offset: number;
  data: Buffer;
}

interface Pending<M> {
  firstSeenMs: number;
  pieces: Piece[];
  /** Total length once the last fragment is seen, else -1. */
  total: number;
  bytes: number;
  /** Caller data from the offset-0 fragment (e.g. IPv6's next header). */
  meta: M | undefined;
}

/** Largest datagram payload IP can describe: 65535 minus the smallest header, rounded generously. */
const MAX_DATAGRAM = 65535;
/** Fragments per datagram; real ones have a handful, floods of tiny overlapping ones are an attack. */
const MAX_PIECES = 1024;

export class FragmentReassembler<M = undefined> {
  readonly stats: FragmentStats = { fragments: 0, reassembled: 0, overlaps: 0, timedOut: 0, evicted: 0, dropped: 0 };
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly maxDatagrams: number;
  /** Insertion order is first-seen order, which makes expiry a scan from the front. */
  private readonly pending = new Map<string, Pending<M>>();
  private bytes = 0;

  constructor(opts: FragmentReassemblerOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.maxBytes = opts.maxBytes ?? 16 * 1024 * 1024;
    this.maxDatagrams = opts.maxDatagrams ?? 4096;
  }

  /** Datagrams waiting for fragments. */
  get size(): number {
    return this.pending.size;
  }

  /** Bytes currently buffered. */
  get bufferedBytes(): number {
    return this.bytes;
  }

  /**
   * Adds one fragment (`offset` in bytes into the datagram's payload). Returns
   * the whole payload with the caller's meta once every byte is present.
   */
  add(key: string, nowMs: number, offset: number, data: Buffer, more: boolean, meta?: M): { payload: Buffer; meta: M | undefined } | undefined {
    this.stats.fragments++;
    this.expire(nowMs);
    const end = offset + data.length;
    if (end > MAX_DATAGRAM) {
      this.drop(key);
      throw new DecodeError('ip', 'malformed', `fragment ends at ${end}, beyond the largest datagram`);
    }
    let p = this.pending.get(key);
    if (p === undefined) {
      p = { firstSeenMs: nowMs, pieces: [], total: -1, bytes: 0, meta: undefined };
      this.pending.set(key, p);
    }
    if (!more) {
      if (p.total >= 0 && p.total !== end) {
        this.drop(key);
        throw new DecodeError('ip', 'malformed', `fragments disagree on the datagram length (${p.total} vs ${end})`);
      }
      p.total = end;
    }
    if (p.total >= 0 && end > p.total) {
      this.drop(key);
      throw new DecodeError('ip', 'malformed', `fragment ends at ${end}, past the datagram end ${p.total}`);
    }
    if (p.pieces.length >= MAX_PIECES) {
      this.drop(key);
      throw new DecodeError('ip', 'malformed', `more than ${MAX_PIECES} fragments for one datagram`);
    }
    if (offset === 0 && p.meta === undefined) p.meta = meta;
    for (const q of p.pieces) {
      if (offset < q.offset + q.data.length && q.offset < end) {
        this.stats.overlaps++;
        break;
      }
    }
    // Copy: the frame's buffer belongs to the capture reader, and accounting stays exact.
    p.pieces.push({ offset, data: Buffer.from(data) });
    p.bytes += data.length;
    this.bytes += data.length;
    const whole = p.total >= 0 ? this.assemble(p) : undefined;
    if (whole !== undefined) {
      this.forget(key, p);
      this.stats.reassembled++;
      return { payload: whole, meta: p.meta };
    }
    this.bound();
    return undefined;
  }

  /** Drops everything (end of input); returns how many datagrams stayed incomplete. */
  clear(): number {
    const n = this.pending.size;
    this.pending.clear();
    this.bytes = 0;
    return n;
  }

  private assemble(p: Pending<M>): Buffer | undefined {
    const sorted = p.pieces.slice().sort((a, b) => a.offset - b.offset);
    let covered = 0;
    for (const q of sorted) {
      if (q.offset > covered) return undefined;
      covered = Math.max(covered, q.offset + q.data.length);
    }
    if (covered < p.total) return undefined;
    const out = Buffer.allocUnsafe(p.total);
    // Newest first, so the earliest copy of overlapping bytes is written last and wins.
    for (let i = p.pieces.length - 1; i >= 0; i--) {
      const q = p.pieces[i]!;
      q.data.copy(out, q.offset);
    }
    return out;
  }

  private expire(nowMs: number): void {
    for (const [key, p] of this.pending) {
      if (nowMs - p.firstSeenMs <= this.timeoutMs) break;
      this.forget(key, p);
      this.stats.timedOut++;
    }
  }

  private bound(): void {
    for (const [key, p] of this.pending) {
      if (this.bytes <= this.maxBytes && this.pending.size <= this.maxDatagrams) break;
      this.forget(key, p);
      this.stats.evicted++;
    }
  }

  private drop(key: string): void {
    const p = this.pending.get(key);
    if (p !== undefined) this.forget(key, p);
    this.stats.dropped++;
  }

  private forget(key: string, p: Pending<M>): void {
    this.pending.delete(key);
    this.bytes -= p.bytes;
  }
}
