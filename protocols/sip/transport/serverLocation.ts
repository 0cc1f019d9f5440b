// Locating a SIP server from a URI (RFC 3263 §4): which transport, host and
// port a request to sip:watcher@example.net goes to when the URI names a
// domain and no port. An IP address, or a name with a port, needs no DNS
// beyond the socket's own address lookup; a name without a port is looked up
// as NAPTR (the domain's preferred transports, §4.1), then SRV (§4.2, RFC 2782
// order: priority, then weight), and failing both is used as it is on the
// transport's default port — which is what a sender without RFC 3263 does.
// Answers are cached for a while: NOTIFYs go to the same few domains again
// and again.
import { isIP } from 'node:net';
import { DEFAULT_SIP_PORT } from './responseTarget.ts';
import { DEFAULT_SIPS_PORT } from './tlsTransport.ts';
import type { TransportTarget } from './types.ts';

/** Where a URI says to send, before any DNS: the parts the URI gave and whether it asks for TLS. */
export interface SipUriLocation {
  readonly host: string;
  /** Absent: not in the URI. */
  readonly port?: number | undefined;
  /** The URI's transport parameter, lower case; absent: none. */
  readonly transport?: 'udp' | 'tcp' | 'tls' | undefined;
  /** sips:, or a hop of a sips: request: TLS only (RFC 5630). */
  readonly secure: boolean;
}

/** The DNS answers RFC 3263 uses (node:dns's Resolver has these). */
export interface SipDnsResolver {
  resolveNaptr(name: string): Promise<Array<{ flags: string; service: string; regexp: string; replacement: string; order: number; preference: number }>>;
  resolveSrv(name: string): Promise<Array<{ name: string; port: number; priority: number; weight: number }>>;
}

/** Without DNS: the URI's transport (UDP, or TLS for sips:) and port, or the transport's default port (RFC 3261 §19.1.2). */
export function defaultTarget(l: SipUriLocation): TransportTarget {
  const transport = l.transport ?? (l.secure ? 'tls' : 'udp');
  return { transport, host: l.host, port: l.port ?? (transport === 'tls' ? DEFAULT_SIPS_PORT : DEFAULT_SIP_PORT) };
}

/** Whether RFC 3263 asks for NAPTR/SRV lookups: a domain name and no port. */
export function needsLookup(l: SipUriLocation): boolean {
  return l.port === undefined && isIP(l.host.replace(/^\[|\]$/g, '')) === 0;
}

/** NAPTR service field → our transport (RFC 3263 §4.1; SIPS+D2T is TLS over TCP). */
const NAPTR_SERVICES: Readonly<Record<string, TransportTarget['transport']>> = { 'SIP+D2U': 'udp', 'SIP+D2T': 'tcp', 'SIPS+D2T': 'tls' };
const SRV_PREFIX: Readonly<Record<TransportTarget['transport'], string>> = { udp: '_sip._udp.', tcp: '_sip._tcp.', tls: '_sips._tcp.' };

export interface ServerLocatorOptions {
  /** How long an answer is used again; default 60 s. */
  readonly cacheMs?: number;
  /** Largest number of names cached (oldest dropped first); default 10,000. */
  readonly maxEntries?: number;
  readonly now?: () => number;
  /** RFC 2782's weighted choice among equal priorities; default Math.random. */
  readonly random?: () => number;
}

export interface ServerLocatorStats {
  lookups: number;
  cached: number;
  /** Names with neither NAPTR nor SRV records (or a failing resolver): sent to the name on the default port. */
  fallbacks: number;
}

export class SipServerLocator {
  readonly stats: ServerLocatorStats = { lookups: 0, cached: 0, fallbacks: 0 };
  private readonly cache = new Map<string, { until: number; targets: TransportTarget[] }>();

  constructor(
    private readonly dns: SipDnsResolver,
    private readonly o: ServerLocatorOptions = {},
  ) {}

  /** The targets to try, in order (RFC 3263 §4.3: the next one when a target fails). */
  async locate(l: SipUriLocation): Promise<TransportTarget[]> {
    if (!needsLookup(l)) return [defaultTarget(l)];
    const now = (this.o.now ?? Date.now)();
    const key = `${l.host.toLowerCase()}|${l.transport ?? ''}|${l.secure ? 's' : ''}`;
    const hit = this.cache.get(key);
    if (hit && hit.until > now) {
      this.stats.cached++;
      return hit.targets;
    }
    this.stats.lookups++;
    let targets = await this.lookup(l);
    if (targets.length === 0) {
      this.stats.fallbacks++;
      targets = [defaultTarget(l)];
    }
    this.cache.delete(key);
    this.cache.set(key, { until: now + (this.o.cacheMs ?? 60_000), targets });
    if (this.cache.size > (this.o.maxEntries ?? 10_000)) this.cache.delete(this.cache.keys().next().value!);
    return targets;
  }

  private async lookup(l: SipUriLocation): Promise<TransportTarget[]> {
    // §4.1: the transports this sender may use — only TLS for sips:, only the named one when the URI names it.
    const allowed = (t: TransportTarget['transport']) => (l.transport ? t === l.transport : !l.secure || t === 'tls');
    if (!l.transport) {
      const naptr = (await this.quietly(() => this.dns.resolveNaptr(l.host)))
        .filter((r) => r.flags.toLowerCase() === 's' && NAPTR_SERVICES[r.service.toUpperCase()] !== undefined)
        .filter((r) => allowed(NAPTR_SERVICES[r.service.toUpperCase()]!))
        .sort((a, b) => a.order - b.order || a.preference - b.preference);
      for (const r of naptr) {
        const targets = await this.srv(r.replacement, NAPTR_SERVICES[r.service.toUpperCase()]!);
        if (targets.length > 0) return targets;
      }
    }
    // §4.1 without NAPTR: SRV for each transport the sender may use, TLS first.
    for (const t of ['tls', 'tcp', 'udp'] as const) {
      if (!allowed(t)) continue;
      const targets = await this.srv(`${SRV_PREFIX[t]}${l.host}`, t);
      if (targets.length > 0) return targets;
    }
    return [];
  }

  /** SRV records of `name` as targets, in RFC 2782 order; a "." target means the service is not offered there. */
  private async srv(name: string, transport: TransportTarget['transport']): Promise<TransportTarget[]> {
    const records = (await this.quietly(() => this.dns.resolveSrv(name))).filter((r) => r.name !== '' && r.name !== '.');
    const out: TransportTarget[] = [];
    const random = this.o.random ?? Math.random;
    for (const priority of [...new Set(records.map((r) => r.priority))].sort((a, b) => a - b)) {
      const pool = records.filter((r) => r.priority === priority);
      while (pool.length > 0) {
        // RFC 2782: pick by running sum of weights; zero-weight records keep a small chance.
        const total = pool.reduce((a, r) => a + r.weight, 0);
        let pick = random() * total;
        let i = pool.findIndex((r) => (pick -= r.weight) < 0);
        if (i < 0) i = 0;
        const [r] = pool.splice(i, 1);
        out.push({ transport, host: r!.name.replace(/\.$/, ''), port: r!.port });
      }
    }
    return out;
  }

  /** A missing record (ENODATA, ENOTFOUND) or a resolver that fails is "no answer": RFC 3263 then tries the next step. */
  private async quietly<T>(q: () => Promise<T[]>): Promise<T[]> {
    try {
      return await q();
    } catch {
      return [];
    }
  }
}
