// XUDT/LUDT segment reassembly (ITU-T Q.714 §4.1.1.2). Segments of one
// message share the segmentation local reference and the calling address
// (and come from the same originating point code); the first segment says how
// many follow. Segments are collected in any order (copies of traffic from
// several links may interleave), bounded in count and bytes, and dropped when
// older than the timeout, measured on message timestamps (no wall clock).
import type { SccpSegmentation } from './sccp.ts';

export interface ReassemblyOptions {
  /** Drop incomplete messages older than this (ns). Q.714 T(reassembly) is 10-20 s. */
  timeoutNs?: bigint;
  /** Most partial messages held at once; the oldest is dropped beyond it. */
  maxPending?: number;
  /** Largest reassembled message (Q.713 caps user data at 3952 octets). */
  maxBytes?: number;
}

interface Pending {
  firstSeenNs: bigint;
  total: number; // 0 until the first segment arrived
  bytes: number;
  parts: (Buffer | undefined)[]; // indexed by `remaining`
}

interface ReassemblyStats {
  completed: number;
  expired: number;
  evicted: number;
  oversized: number;
  duplicates: number;
}

export class SccpReassembler {
  private readonly pending = new Map<string, Pending>();
  private readonly timeoutNs: bigint;
  private readonly maxPending: number;
  private readonly maxBytes: number;
  readonly stats: ReassemblyStats = { completed: 0, expired: 0, evicted: 0, oversized: 0, duplicates: 0 };

  constructor(opts: ReassemblyOptions = {}) {
    this.timeoutNs = opts.timeoutNs ?? 20_000_000_000n;
    this.maxPending = opts.maxPending ?? 4096;
    this.maxBytes = opts.maxBytes ?? 8192;
  }

  get size(): number {
    return this.pending.size;
  }

  /**
   * Adds one segment; returns the whole user data once every segment is in,
   * otherwise undefined.
   */
  add(opc: number, callingRaw: Buffer, seg: SccpSegmentation, data: Buffer, timeNs: bigint): Buffer | undefined {
    this.expire(timeNs);
    const key = `${opc}|${seg.localRef}|${callingRaw.toString('latin1')}`;
    let p = this.pending.get(key);
    if (!p) {
      if (seg.first && seg.remaining === 0) return data; // a single "segment"
      if (this.pending.size >= this.maxPending) {
        // Map iteration order is insertion order: the first key is the oldest.
        const oldest = this.pending.keys().next().value as string;
        this.pending.delete(oldest);
        this.stats.evicted++;
      }
      p = { firstSeenNs: timeNs, total: 0, bytes: 0, parts: [] };
      this.pending.set(key, p);
    }
    if (p.parts[seg.remaining]) {
      this.stats.duplicates++;
      return undefined;
    }
    if (seg.first) {
      if (p.total !== 0 || p.parts.length > seg.remaining + 1) {
        // A second "first" segment or segments beyond the announced count: start over.
        this.pending.delete(key);
        this.stats.duplicates++;
        return undefined;
      }
      p.total = seg.remaining + 1;
    }
    p.bytes += data.length;
    if (p.bytes > this.maxBytes) {
      this.pending.delete(key);
      this.stats.oversized++;
      return undefined;
    }
    p.parts[seg.remaining] = data;
    if (p.total === 0) return undefined;
    for (let i = 0; i < p.total; i++) if (!p.parts[i]) return undefined;
    this.pending.delete(key);
    this.stats.completed++;
    const ordered: Buffer[] = [];
    for (let i = p.total - 1; i >= 0; i--) ordered.push(p.parts[i]!);
    return Buffer.concat(ordered, p.bytes);
  }

  /** Drops partial messages older than the timeout relative to `nowNs`. */
  expire(nowNs: bigint): void {
    for (const [key, p] of this.pending) {
      if (nowNs - p.firstSeenNs <= this.timeoutNs) break; // insertion order ≈ time order
      this.pending.delete(key);
      this.stats.expired++;
    }
  }
}
