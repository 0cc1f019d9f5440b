// Per-direction TCP byte-stream reassembly: turns segments (in any order,
// with retransmissions) into contiguous, in-order chunks per flow direction.
// Framing application messages out of the bytes is the next layer's job.
//
// Bounded: out-of-order data per direction is capped (maxBufferedBytes) and a
// missing segment is waited for at most holeTimeoutMs of capture time; then
// the hole is skipped and the next chunk says how many bytes were lost
// (`gap`), so the consumer can resynchronise. Idle flows are swept out, and
// the flow table is capped at maxFlows.
import { TCP_FLAG } from './tcpFlags.ts';

export interface TcpStreamOptions {
  /** Drop a direction after this long without segments (capture time). Default 10 min. */
  idleTimeoutMs?: number;
  /** Directions tracked at once; the oldest are released beyond. Default 65536. */
  maxFlows?: number;
  /** Out-of-order bytes buffered per direction before a hole is skipped. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** Longest wait for a missing segment before skipping it. Default 10 s. */
  holeTimeoutMs?: number;
}

export interface TcpChunk<M> {
  /** Direction key given to push(). */
  flow: string;
  /** Caller data given with the direction's first segment (e.g. its addresses). */
  meta: M;
  /** Next bytes of the stream, in order. */
  data: Buffer;
  /** Frame that carried these bytes, and its capture time. */
  frame: number;
  timeNs: bigint;
  /** Bytes missing just before this chunk (0 when contiguous with the previous one). */
  gap: number;
}

export interface TcpStreamStats {
  segments: number;
  chunks: number;
  /** Segments whose bytes had all been delivered already. */
  retransmissions: number;
  /** Segments that arrived ahead of a hole. */
  outOfOrder: number;
  gaps: number;
  gapBytes: number;
  resets: number;
  /** Connections replaced by a new SYN on the same ports. */
  reused: number;
  timedOut: number;
  evicted: number;
}

interface Segment {
  seq: number;
  data: Buffer;
  frame: number;
  timeNs: bigint;
}

interface Direction<M> {
  meta: M;
  /** Next expected sequence number (uint32). */
  next: number;
  /** Initial sequence number when the SYN was seen, else -1. */
  isn: number;
  pending: Segment[];
  pendingBytes: number;
  holeSinceMs: number;
  lastSeenMs: number;
  /** Sequence number of the FIN, or -1. */
  fin: number;
  closed: boolean;
  /** Bytes skipped, to report on the next chunk. */
  gap: number;
}

export class TcpStreams<M = undefined> {
  readonly stats: TcpStreamStats = {
    segments: 0,
    chunks: 0,
    retransmissions: 0,
    outOfOrder: 0,
    gaps: 0,
    gapBytes: 0,
    resets: 0,
    reused: 0,
    timedOut: 0,
    evicted: 0,
  };
  private readonly idleTimeoutMs: number;
  private readonly maxFlows: number;
  private readonly maxBufferedBytes: number;
  private readonly holeTimeoutMs: number;
  private readonly flows = new Map<string, Direction<M>>();
  /** Directions with data waiting behind a hole: few, so checked often. */
  private readonly holed = new Map<string, Direction<M>>();
  private nextSweepMs = -Infinity;
  private nextHoleCheckMs = -Infinity;

  constructor(opts: TcpStreamOptions = {}) {
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 600_000;
    this.maxFlows = opts.maxFlows ?? 65536;
    this.maxBufferedBytes = opts.maxBufferedBytes ?? 1024 * 1024;
    this.holeTimeoutMs = opts.holeTimeoutMs ?? 10_000;
  }

  /** Directions currently tracked. */
  get size(): number {
    return this.flows.size;
  }

  /**
   * Feeds one segment of direction `flow`; appends the chunks it makes
   * deliverable (possibly of other flows, when they are swept) to `out`.
   */
  push(flow: string, meta: M, seq: number, flags: number, payload: Buffer, frame: number, timeNs: bigint, out: TcpChunk<M>[]): void {
    this.stats.segments++;
    const nowMs = Number(timeNs) / 1e6;
    if (nowMs >= this.nextSweepMs) this.sweep(nowMs, out);
    if (this.holed.size > 0 && nowMs >= this.nextHoleCheckMs) this.checkHoles(nowMs, out);
    let d = this.flows.get(flow);
    if (flags & TCP_FLAG.syn) {
      if (d !== undefined && d.isn !== seq) {
        if (d.isn >= 0 || d.closed) this.stats.reused++;
        d = undefined; // a new connection (or the first SYN after a mid-stream start): forget the old bytes
      }
      if (d === undefined) {
        d = this.create(flow, meta, (seq + 1) >>> 0, nowMs);
        d.isn = seq;
      }
      seq = (seq + 1) >>> 0; // the SYN takes one sequence number; TFO data follows it
    }
    if (d === undefined) {
      if (flags & TCP_FLAG.rst) return; // nothing to reset
      d = this.create(flow, meta, seq, nowMs); // joined mid-stream: start where we are
    }
    d.lastSeenMs = nowMs;
    if (flags & TCP_FLAG.rst) {
      this.stats.resets++;
      d.closed = true;
      d.pending = [];
      d.pendingBytes = 0;
      this.holed.delete(flow);
      return;
    }
    const len = payload.length;
    if (len > 0) {
      const rel = (seq - d.next) | 0;
      if (rel + len <= 0) {
        this.stats.retransmissions++;
      } else if (rel <= 0) {
        this.emit(flow, d, payload.subarray(-rel), frame, timeNs, out);
        d.next = (seq + len) >>> 0;
        this.drain(flow, d, out);
      } else {
        this.buffer(d, seq, payload, frame, timeNs, nowMs);
        this.holed.set(flow, d);
        if (d.pendingBytes > this.maxBufferedBytes) this.skipHoles(flow, d, out, false);
      }
    }
    if (flags & TCP_FLAG.fin) {
      d.fin = (seq + len) >>> 0;
      this.checkFin(d);
    }
    if (d.pending.length > 0 && nowMs - d.holeSinceMs > this.holeTimeoutMs) this.skipHoles(flow, d, out, false);
  }

  /** End of input: delivers whatever waits behind holes, then forgets every flow. */
  flush(out: TcpChunk<M>[]): void {
    for (const [flow, d] of this.flows) this.skipHoles(flow, d, out, true);
    this.flows.clear();
    this.holed.clear();
  }

  private create(flow: string, meta: M, next: number, nowMs: number): Direction<M> {
    if (this.flows.size >= this.maxFlows) {
      const oldest = this.flows.keys().next().value;
      if (oldest !== undefined) {
        this.flows.delete(oldest);
        this.holed.delete(oldest);
        this.stats.evicted++;
      }
    }
    this.holed.delete(flow); // a replaced connection's leftovers are not this one's
    const d: Direction<M> = { meta, next, isn: -1, pending: [], pendingBytes: 0, holeSinceMs: nowMs, lastSeenMs: nowMs, fin: -1, closed: false, gap: 0 };
    this.flows.set(flow, d);
    return d;
  }

  private buffer(d: Direction<M>, seq: number, payload: Buffer, frame: number, timeNs: bigint, nowMs: number): void {
    this.stats.outOfOrder++;
    if (d.pending.length === 0) d.holeSinceMs = nowMs;
    // Copy: the frame buffer belongs to the capture reader and may be large.
    const seg: Segment = { seq, data: Buffer.from(payload), frame, timeNs };
    const rel = (seq - d.next) | 0;
    let i = d.pending.length;
    while (i > 0 && ((d.pending[i - 1]!.seq - d.next) | 0) > rel) i--;
    d.pending.splice(i, 0, seg);
    d.pendingBytes += payload.length;
  }

  /** Delivers buffered segments that the stream has caught up with. */
  private drain(flow: string, d: Direction<M>, out: TcpChunk<M>[]): void {
    while (d.pending.length > 0) {
      const s = d.pending[0]!;
      const rel = (s.seq - d.next) | 0;
      if (rel > 0) return;
      d.pending.shift();
      d.pendingBytes -= s.data.length;
      if (rel + s.data.length <= 0) {
        this.stats.retransmissions++;
        continue;
      }
      this.emit(flow, d, s.data.subarray(-rel), s.frame, s.timeNs, out);
      d.next = (s.seq + s.data.length) >>> 0;
    }
    if (this.holed.size > 0) this.holed.delete(flow);
    this.checkFin(d);
  }

  /** Gives up on the missing bytes in front of the buffered data (all of it when `all`). */
  private skipHoles(flow: string, d: Direction<M>, out: TcpChunk<M>[], all: boolean): void {
    do {
      const s = d.pending[0];
      if (s === undefined) return;
      const gap = (s.seq - d.next) >>> 0;
      this.stats.gaps++;
      this.stats.gapBytes += gap;
      d.gap += gap;
      d.next = s.seq;
      this.drain(flow, d, out);
      d.holeSinceMs = d.lastSeenMs;
    } while (all || d.pendingBytes > this.maxBufferedBytes);
  }

  private checkFin(d: Direction<M>): void {
    if (d.fin >= 0 && d.next === d.fin) {
      d.next = (d.fin + 1) >>> 0;
      d.closed = true;
    }
  }

  private emit(flow: string, d: Direction<M>, data: Buffer, frame: number, timeNs: bigint, out: TcpChunk<M>[]): void {
    out.push({ flow, meta: d.meta, data, frame, timeNs, gap: d.gap });
    d.gap = 0;
    this.stats.chunks++;
  }

  /** Skips holes that have waited too long, even on directions that went quiet. */
  private checkHoles(nowMs: number, out: TcpChunk<M>[]): void {
    this.nextHoleCheckMs = nowMs + Math.min(1000, this.holeTimeoutMs);
    for (const [flow, d] of this.holed) {
      if (nowMs - d.holeSinceMs > this.holeTimeoutMs) this.skipHoles(flow, d, out, false);
    }
  }

  /** Releases idle directions; runs a few times per idle period, not per segment. */
  private sweep(nowMs: number, out: TcpChunk<M>[]): void {
    this.nextSweepMs = nowMs + Math.max(1000, this.idleTimeoutMs / 4);
    for (const [flow, d] of this.flows) {
      if (nowMs - d.lastSeenMs <= this.idleTimeoutMs) continue;
      this.skipHoles(flow, d, out, true);
      this.flows.delete(flow);
      this.holed.delete(flow);
      this.stats.timedOut++;
    }
  }
}
