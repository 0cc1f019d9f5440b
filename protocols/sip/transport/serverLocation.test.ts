// RFC 3263 §4 server location against a resolver answering from a table (the DNS
// wire itself is tried in test/integration/notifySrv.test.ts).
import { describe, expect, it } from 'vitest';
import { SipServerLocator, type SipDnsResolver } from './serverLocation.ts';

type Naptr = Awaited<ReturnType<SipDnsResolver['resolveNaptr']>>[number];
type Srv = Awaited<ReturnType<SipDnsResolver['resolveSrv']>>[number];

function zone(naptr: Record<string, Naptr[]>, srv: Record<string, Srv[]>) {
  const asked: string[] = [];
  const none = () => Object.assign(new Error('queryNaptr ENODATA'), { code: 'ENODATA' });
  const dns: SipDnsResolver = {
    resolveNaptr: async (n) => (asked.push(`NAPTR ${n}`), naptr[n] ?? Promise.reject(none())),
    resolveSrv: async (n) => (asked.push(`SRV ${n}`), srv[n] ?? Promise.reject(none())),
  };
  return { dns, asked };
}
const naptr = (order: number, service: string, replacement: string, preference = 10): Naptr => ({
  flags: 'S',
  service,
  regexp: '',
  replacement,
  order,
  preference,
});
const srv = (name: string, port: number, priority = 10, weight = 0): Srv => ({ name, port, priority, weight });

describe('SipServerLocator (RFC 3263 §4)', () => {
  it('needs no DNS for an IP address or a name with a port', async () => {
    const { dns, asked } = zone({}, {});
    const l = new SipServerLocator(dns);
    expect(await l.locate({ host: '192.0.2.7', secure: false })).toEqual([{ transport: 'udp', host: '192.0.2.7', port: 5060 }]);
    expect(await l.locate({ host: '[2001:db8::1]', secure: true })).toEqual([{ transport: 'tls', host: '[2001:db8::1]', port: 5061 }]);
    expect(await l.locate({ host: 'example.net', port: 5080, secure: false })).toEqual([{ transport: 'udp', host: 'example.net', port: 5080 }]);
    expect(asked).toEqual([]);
  });

  it('follows the NAPTR records in order and preference to their SRV targets', async () => {
    const { dns, asked } = zone(
      { 'example.net': [naptr(20, 'SIP+D2U', '_sip._udp.example.net'), naptr(10, 'SIP+D2T', '_sip._tcp.example.net')] },
      { '_sip._tcp.example.net': [srv('b.example.net', 5070, 20), srv('a.example.net', 5060, 10)] },
    );
    expect(await new SipServerLocator(dns).locate({ host: 'example.net', secure: false })).toEqual([
      { transport: 'tcp', host: 'a.example.net', port: 5060 },
      { transport: 'tcp', host: 'b.example.net', port: 5070 },
    ]);
    expect(asked).toEqual(['NAPTR example.net', 'SRV _sip._tcp.example.net']);
  });

  it('for sips: takes only SIPS+D2T and _sips._tcp', async () => {
    const { dns } = zone(
      { 'example.net': [naptr(10, 'SIP+D2U', '_sip._udp.example.net'), naptr(20, 'SIPS+D2T', '_sips._tcp.example.net')] },
      { '_sip._udp.example.net': [srv('udp.example.net', 5060)], '_sips._tcp.example.net': [srv('tls.example.net', 5061)] },
    );
    expect(await new SipServerLocator(dns).locate({ host: 'example.net', secure: true })).toEqual([{ transport: 'tls', host: 'tls.example.net', port: 5061 }]);
  });

  it('without NAPTR asks SRV per transport (TLS, TCP, UDP); a transport in the URI asks only its own', async () => {
    const { dns, asked } = zone({}, { '_sip._udp.example.net': [srv('u.example.net', 5062)], '_sip._tcp.example.net': [srv('t.example.net', 5063)] });
    expect(await new SipServerLocator(dns).locate({ host: 'example.net', secure: false })).toEqual([{ transport: 'tcp', host: 't.example.net', port: 5063 }]);
    expect(asked).toEqual(['NAPTR example.net', 'SRV _sips._tcp.example.net', 'SRV _sip._tcp.example.net']);
    expect(await new SipServerLocator(dns).locate({ host: 'example.net', transport: 'udp', secure: false })).toEqual([
      { transport: 'udp', host: 'u.example.net', port: 5062 },
    ]);
  });

  it('with no records (or a failing resolver) uses the name on the default port, counted; answers are cached', async () => {
    let now = 0;
    const { dns, asked } = zone({}, {});
    const l = new SipServerLocator(dns, { cacheMs: 1000, now: () => now });
    expect(await l.locate({ host: 'plain.example.net', secure: false })).toEqual([{ transport: 'udp', host: 'plain.example.net', port: 5060 }]);
    const queries = asked.length;
    expect(await l.locate({ host: 'plain.example.net', secure: false })).toHaveLength(1);
    expect(asked).toHaveLength(queries);
    now = 1001;
    await l.locate({ host: 'plain.example.net', secure: false });
    expect(asked).toHaveLength(2 * queries);
    expect(l.stats).toEqual({ lookups: 2, cached: 1, fallbacks: 2 });
    const failing = new SipServerLocator({
      resolveNaptr: () => Promise.reject(new Error('ETIMEOUT')),
      resolveSrv: () => Promise.reject(new Error('ETIMEOUT')),
    });
    expect(await failing.locate({ host: 'example.net', secure: true })).toEqual([{ transport: 'tls', host: 'example.net', port: 5061 }]);
  });

  it('orders equal priorities by weight (RFC 2782) and skips a "." target', async () => {
    const { dns } = zone({}, { '_sip._udp.example.net': [srv('light.example.net', 1, 10, 1), srv('heavy.example.net', 2, 10, 99), srv('.', 0, 5)] });
    const l = new SipServerLocator(dns, { random: () => 0.5 });
    expect((await l.locate({ host: 'example.net', transport: 'udp', secure: false })).map((t) => t.host)).toEqual(['heavy.example.net', 'light.example.net']);
  });
});
