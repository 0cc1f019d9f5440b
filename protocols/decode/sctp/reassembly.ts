// Reassembles fragmented SCTP user messages. RFC 9260 §6.9: the fragments of
// one message carry consecutive TSNs, first flagged B, last flagged E, same
// stream. So per association direction we keep fragments by TSN and, when
// one arrives, walk down to a B and up to an E; a complete run is a message.
// Bounded by bytes and by capture-time age, like IP fragments.
import type { SctpDataChunk } from './sctp.ts';

export interface SctpReassemblyOptions {
  /** Fragments older than this (capture time) are dropped. Default 30 s. */
  timeoutMs?: number;
  /** Bytes buffered over all associations. Default 16 MiB. */
  maxBytes?: number;
}

export interface SctpReassemblyStats {
  fragments: number;
  reassembled: number;
  /** Fragments dropped unassembled (timeout, memory bound, flush). */
  dropped: number;
}

interface SctpMessage {
  data: Buffer;
  /** Stream, SSN, PPID and TSN of the first fragment. */
  first: SctpDataChunk;
}

interface Fragment {
  chunk: SctpDataChunk;
  seenMs: number;
}

/** Longest message we assemble; MAP/ISUP messages are far smaller. */
const MAX_FRAGMENTS = 4096;
/** Bookkeeping cost charged per fragment, so empty fragments still count against maxBytes. */
const FRAGMENT_OVERHEAD = 64;

export class SctpReassembler {
  readonly stats: SctpReassemblyStats = { fragments: 0, reassembled: 0, dropped: 0 };
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  /** association direction → TSN → fragment. */
  private readonly assocs = new Map<string, Map<number, Fragment>>();
  private bytes = 0;
  private nextSweepMs = -Infinity;

  constructor(opts: SctpReassemblyOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.maxBytes = opts.maxBytes ?? 16 * 1024 * 1024;
  }

  get bufferedBytes(): number {
    return this.bytes;
  }

  /** Returns the whole message when `chunk` completes one (at once for an unfragmented chunk). */
  add(assoc: string, chunk: SctpDataChunk, nowMs: number): SctpMessage | undefined {
    if (chunk.begin && chunk.end) return { data: chunk.data, first: chunk };
    this.stats.fragments++;
    if (nowMs >= this.nextSweepMs) this.sweep(nowMs);
    let frags = this.assocs.get(assoc);
    if (frags === undefined) {
      frags = new Map();
      this.assocs.set(assoc, frags);
    }
    if (frags.has(chunk.tsn)) return undefined; // retransmitted fragment
    // Copy: the frame buffer belongs to the capture reader.
    const kept: SctpDataChunk = { ...chunk, data: Buffer.from(chunk.data) };
    frags.set(chunk.tsn, { chunk: kept, seenMs: nowMs });
    this.bytes += kept.data.length + FRAGMENT_OVERHEAD;
    const message = this.complete(frags, chunk.tsn);
    if (message === undefined && this.bytes > this.maxBytes) this.shed();
    return message;
  }

  /** Drops all partial messages (end of input); returns how many fragments were dropped. */
  clear(): number {
    let n = 0;
    for (const frags of this.assocs.values()) n += frags.size;
    this.assocs.clear();
    this.bytes = 0;
    this.stats.dropped += n;
    return n;
  }

  private complete(frags: Map<number, Fragment>, tsn: number): SctpMessage | undefined {
    const stream = frags.get(tsn)!.chunk.streamId;
    let first = tsn;
    for (let n = 0; ; n++) {
      const f = frags.get(first);
      if (f === undefined || f.chunk.streamId !== stream || n > MAX_FRAGMENTS) return undefined;
      if (f.chunk.begin) break;
      first = (first - 1) >>> 0;
    }
    let last = tsn;
    let total = 0;
    for (let n = 0; ; n++) {
      const f = frags.get(last);
      if (f === undefined || f.chunk.streamId !== stream || n > MAX_FRAGMENTS) return undefined;
      if (last !== first && f.chunk.begin) return undefined; // a B inside the run: inconsistent, wait for timeout
      if (f.chunk.end) break;
      last = (last + 1) >>> 0;
    }
    for (let t = first; ; t = (t + 1) >>> 0) {
      total += frags.get(t)!.chunk.data.length;
      if (t === last) break;
    }
    const data = Buffer.allocUnsafe(total);
    let at = 0;
    const head = frags.get(first)!.chunk;
    for (let t = first; ; t = (t + 1) >>> 0) {
      const c = frags.get(t)!.chunk;
      c.data.copy(data, at);
      at += c.data.length;
      this.bytes -= c.data.length + FRAGMENT_OVERHEAD;
      frags.delete(t);
      if (t === last) break;
    }
    this.stats.reassembled++;
    return { data, first: head };
  }

  private sweep(nowMs: number): void {
    this.nextSweepMs = nowMs + Math.max(1000, this.timeoutMs / 4);
    for (const [assoc, frags] of this.assocs) {
      for (const [tsn, f] of frags) {
        if (nowMs - f.seenMs > this.timeoutMs) this.dropFragment(frags, tsn, f);
      }
      if (frags.size === 0) this.assocs.delete(assoc);
    }
  }

  /** Over the memory bound: drop the oldest fragments until under it. */
  private shed(): void {
    for (const frags of this.assocs.values()) {
      for (const [tsn, f] of frags) {
        if (this.bytes <= this.maxBytes) return;
        this.dropFragment(frags, tsn, f);
      }
    }
  }

  private dropFragment(frags: Map<number, Fragment>, tsn: number, f: Fragment): void {
    frags.delete(tsn);
    this.bytes -= f.chunk.data.length + FRAGMENT_OVERHEAD;
    this.stats.dropped++;
  }
}
