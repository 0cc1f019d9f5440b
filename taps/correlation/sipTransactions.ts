// Ties SIP responses to their requests so a response (which carries no
// Request-URI and only CSeq's method) can be attributed: a 200 to PUBLISH or
// REGISTER is what confirms presence state. Matching follows RFC 3261 §17.1.3:
// top Via branch + CSeq method, scoped here by Call-ID and CSeq number too; when
// the branch differs (request and response seen on different legs) a single
// pending request with the same Call-ID/CSeq is accepted.
//
// Time comes from message timestamps, never the wall clock, so replaying a
// capture gives the same result. Memory is bounded by entry count and timeout.
import type { SipMessage } from '../../protocols/decode/sip/message.ts';
import { sipAor } from '../../subscriber/identity/aor.ts';

export interface PendingRequest {
  readonly method: string;
  readonly requestUri?: string;
  readonly callId: string;
  readonly cseq: number;
  readonly branch?: string;
  readonly fromUri?: string;
  readonly toUri?: string;
  /** 'sip:user@host' AoRs (undefined for tel: and other non-SIP URIs) */
  readonly fromAor?: string;
  readonly toAor?: string;
  readonly fromTag?: string;
  readonly timeNs: bigint;
}

export interface TransactionMatch {
  readonly request: PendingRequest;
  /** Response time minus request time. */
  readonly latencyNs: bigint;
  /** True for the first final (>= 200) response of the transaction. */
  readonly firstFinal: boolean;
}

export interface SipTransactionStats {
  requests: number;
  retransmissions: number;
  matched: number;
  unmatched: number;
  expired: number;
  evicted: number;
}

export interface SipTransactionOptions {
  /** How long a request waits for responses; default 32 s (64·T1, RFC 3261 Timer B/F). */
  timeoutNs?: bigint;
  /**
   * INVITE transactions that got a provisional response wait this long for the
   * final one (RFC 3261 Timer C, > 3 min); default 180 s.
   */
  inviteTimeoutNs?: bigint;
  /** Upper bound on pending requests; the oldest is dropped beyond it. */
  maxEntries?: number;
}

interface Entry {
  readonly key: string;
  readonly request: PendingRequest;
  finalSeen: boolean;
  deadlineNs: bigint;
}

/** Expiry queue slot; stale when the entry's deadline moved (a newer slot exists). */
interface Slot {
  readonly entry: Entry;
  readonly deadlineNs: bigint;
}

export class SipTransactionTracker {
  readonly stats: SipTransactionStats = { requests: 0, retransmissions: 0, matched: 0, unmatched: 0, expired: 0, evicted: 0 };
  private readonly timeoutNs: bigint;
  private readonly inviteTimeoutNs: bigint;
  private readonly maxEntries: number;
  /** Insertion order ≈ time order: expiry sweeps from the front. */
  private readonly byKey = new Map<string, Entry[]>();
  private readonly queue: Slot[] = [];
  private queueHead = 0;
  private count = 0;

  constructor(options: SipTransactionOptions = {}) {
    this.timeoutNs = options.timeoutNs ?? 32_000_000_000n;
    this.inviteTimeoutNs = options.inviteTimeoutNs ?? 180_000_000_000n;
    this.maxEntries = options.maxEntries ?? 100_000;
  }

  get size(): number {
    return this.count;
  }

  /** Feeds any message; returns the match for responses. */
  observe(msg: SipMessage, timeNs: bigint): TransactionMatch | undefined {
    if (msg.kind === 'request') {
      this.onRequest(msg, timeNs);
      return undefined;
    }
    return this.onResponse(msg, timeNs);
  }

  onRequest(msg: SipMessage, timeNs: bigint): void {
    this.expire(timeNs);
    // ACK to a 2xx has no response; ACK to a non-2xx shares the INVITE transaction
    if (msg.method === 'ACK') return;
    const key = baseKey(msg.callId, msg.cseq.seq, msg.cseq.method);
    const branch = msg.topVia?.branch;
    const list = this.byKey.get(key);
    if (list?.some((e) => e.request.branch === branch)) {
      this.stats.retransmissions++;
      return;
    }
    const from = msg.from;
    const to = msg.to;
    const req: { -readonly [K in keyof PendingRequest]: PendingRequest[K] } = { method: msg.method, callId: msg.callId, cseq: msg.cseq.seq, timeNs };
    if (msg.requestUri !== undefined) req.requestUri = msg.requestUri;
    if (branch !== undefined) req.branch = branch;
    if (from) {
      req.fromUri = from.uri;
      const a = sipAor(from.uri);
      if (a) req.fromAor = a;
      if (from.tag) req.fromTag = from.tag;
    }
    if (to) {
      req.toUri = to.uri;
      const a = sipAor(to.uri);
      if (a) req.toAor = a;
    }
    const entry: Entry = { key, request: req, finalSeen: false, deadlineNs: timeNs + this.timeoutNs };
    if (list) list.push(entry);
    else this.byKey.set(key, [entry]);
    this.queue.push({ entry, deadlineNs: entry.deadlineNs });
    this.count++;
    this.stats.requests++;
    while (this.count > this.maxEntries) {
      this.dropOldest();
      this.stats.evicted++;
    }
  }

  onResponse(msg: SipMessage, timeNs: bigint): TransactionMatch | undefined {
    this.expire(timeNs);
    const list = this.byKey.get(baseKey(msg.callId, msg.cseq.seq, msg.cseq.method));
    let entry: Entry | undefined;
    if (list) {
      const branch = msg.topVia?.branch;
      entry = branch === undefined ? undefined : list.find((e) => e.request.branch === branch);
      if (!entry && list.length === 1) entry = list[0];
      if (!entry && list.length > 1 && branch === undefined) entry = list[list.length - 1];
    }
    if (!entry) {
      this.stats.unmatched++;
      return undefined;
    }
    this.stats.matched++;
    const final = (msg.status ?? 0) >= 200;
    const firstFinal = final && !entry.finalSeen;
    if (final) entry.finalSeen = true;
    else if (entry.request.method === 'INVITE' && timeNs + this.inviteTimeoutNs > entry.deadlineNs) {
      entry.deadlineNs = timeNs + this.inviteTimeoutNs;
      this.queue.push({ entry, deadlineNs: entry.deadlineNs });
    }
    return { request: entry.request, latencyNs: timeNs - entry.request.timeNs, firstFinal };
  }

  private expire(now: bigint): void {
    while (this.queueHead < this.queue.length) {
      const slot = this.queue[this.queueHead]!;
      const e = slot.entry;
      if (slot.deadlineNs !== e.deadlineNs || !this.isLive(e)) {
        this.queueHead++;
        continue;
      }
      if (now <= e.deadlineNs) break;
      this.remove(e);
      this.queueHead++;
      this.stats.expired++;
    }
    this.compact();
  }

  private dropOldest(): void {
    while (this.queueHead < this.queue.length) {
      const slot = this.queue[this.queueHead++]!;
      const e = slot.entry;
      if (slot.deadlineNs === e.deadlineNs && this.isLive(e)) {
        this.remove(e);
        break;
      }
    }
    this.compact();
  }

  private isLive(e: Entry): boolean {
    return this.byKey.get(e.key)?.includes(e) ?? false;
  }

  private remove(e: Entry): void {
    const list = this.byKey.get(e.key);
    if (!list) return;
    const i = list.indexOf(e);
    if (i < 0) return;
    list.splice(i, 1);
    if (list.length === 0) this.byKey.delete(e.key);
    this.count--;
  }

  /** Reclaims the consumed head of the queue now and then (amortised O(1)). */
  private compact(): void {
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }
}

function baseKey(callId: string, seq: number, method: string): string {
  return `${callId}\u0000${seq}\u0000${method}`;
}
