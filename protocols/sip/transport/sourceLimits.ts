// Per-source flood limits of the SIP transport (issue 13.8), in the spirit of
// Kamailio's pike module and its tcp_max_connections: a token bucket per
// source address for incoming messages, caps on TCP connections per source
// and in all. Messages past the rate are dropped, not answered (as pike
// does): an answer would cost the flooder nothing and us a send. Addresses
// listed as exempt (a proxy in front of us carries everyone's traffic) are
// never limited. The table of sources is bounded: the least recently seen
// source is forgotten first, so a flood of spoofed sources costs no memory.
import { AddressSet } from './addressSet.ts';

export interface SourceLimitOptions {
  /** Messages per second one source address may send (token bucket); absent or 0: unlimited. */
  readonly requestsPerSecond?: number;
  /** Bucket size: messages a source may send at once. Default 2 × requestsPerSecond. */
  readonly burst?: number;
  /** Addresses or networks (CIDR) never rate-limited nor capped (trusted proxies, load balancers). */
  readonly exempt?: readonly string[];
  /** TCP connections one source may hold open. Default 100. */
  readonly maxTcpConnectionsPerSource?: number;
  /** TCP connections in all (accepted ones). Default 10 000. */
  readonly maxTcpConnections?: number;
  /** A TCP message must arrive whole within this long of its first byte (slow senders). Default 10 s. */
  readonly messageReadTimeoutMs?: number;
  /** Sources remembered for rate limiting. Default 100 000. */
  readonly maxTrackedSources?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class SourceLimits {
  readonly messageReadTimeoutMs: number;
  private readonly rate: number;
  private readonly burst: number;
  private readonly exempt: AddressSet;
  private readonly perSource: number;
  private readonly total: number;
  private readonly maxTracked: number;
  /** Insertion order is recency order: a touched source is re-inserted at the end. */
  private readonly buckets = new Map<string, Bucket>();
  private readonly connections = new Map<string, number>();
  private openConnections = 0;

  constructor(o: SourceLimitOptions = {}) {
    this.rate = o.requestsPerSecond ?? 0;
    this.burst = o.burst ?? 2 * this.rate;
    this.exempt = new AddressSet(o.exempt ?? [], 'PRESENCE_SIP_RATE_EXEMPT');
    this.perSource = o.maxTcpConnectionsPerSource ?? 100;
    this.total = o.maxTcpConnections ?? 10_000;
    this.messageReadTimeoutMs = o.messageReadTimeoutMs ?? 10_000;
    this.maxTracked = o.maxTrackedSources ?? 100_000;
    for (const [name, v] of Object.entries({
      requestsPerSecond: this.rate,
      burst: this.burst,
      maxTcpConnectionsPerSource: this.perSource,
      maxTcpConnections: this.total,
    })) {
      if (!(v >= 0) || !Number.isFinite(v)) throw new Error(`source limit ${name} must be a non-negative number, not ${v}`);
    }
  }

  get trackedSources(): number {
    return this.buckets.size;
  }

  /** Whether a message from `address` is within its rate; takes a token when it is. */
  admitMessage(address: string, now = Date.now()): boolean {
    if (this.rate <= 0 || this.exempt.has(address)) return true;
    let b = this.buckets.get(address);
    if (b) {
      this.buckets.delete(address);
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.rate);
      b.at = now;
    } else {
      b = { tokens: this.burst, at: now };
      if (this.buckets.size >= this.maxTracked) this.buckets.delete(this.buckets.keys().next().value!);
    }
    this.buckets.set(address, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Takes a slot for an accepted connection from `address`, or says which cap refuses it. */
  admitConnection(address: string): 'ok' | 'per-source' | 'total' {
    if (!this.exempt.has(address)) {
      if (this.openConnections >= this.total) return 'total';
      if ((this.connections.get(address) ?? 0) >= this.perSource) return 'per-source';
    }
    this.connections.set(address, (this.connections.get(address) ?? 0) + 1);
    this.openConnections++;
    return 'ok';
  }

  /** Gives back the slot of a connection admitted earlier. */
  connectionClosed(address: string): void {
    const n = (this.connections.get(address) ?? 0) - 1;
    if (n > 0) this.connections.set(address, n);
    else this.connections.delete(address);
    this.openConnections = Math.max(0, this.openConnections - 1);
  }
}
