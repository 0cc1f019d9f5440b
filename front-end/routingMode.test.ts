// The routing modes without Kafka: redirect and proxy against fake owner
// contacts, on real UDP sockets (front end → "event manager" front end).
import { afterEach, describe, expect, it } from 'vitest';
import { parseSipMessage } from '../protocols/decode/sip/index.ts';
import { openSipUdpClient, type SipUdpClient } from '../test/support/sipUdpClient.ts';
import type { Subscription } from '../schemas/generated/records.ts';
import { TrustedProxies } from '../protocols/sip/transport/trustedProxies.ts';
import { ownerTargetUri, parseFrontEndMode } from './routingMode.ts';
import { forwardRequest, proxyBranch, proxyRouting, relayResponse, PROXY_BRANCH_PREFIX } from './routingModeProxy.ts';
import { redirectRouting } from './routingModeRedirect.ts';
import { SipFrontEnd, type SubscriptionSink } from './sipFrontEnd.ts';
import { presentityKey } from './subscribeHandler.ts';
import { type KeyResolver } from './handlerContext.ts';

const HOST = '127.0.0.1';
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});
const resolveKey: KeyResolver = (u) => presentityKey(u, { countryCode: '351' });

async function client(): Promise<SipUdpClient> {
  const c = await openSipUdpClient({ host: HOST });
  cleanup.push(() => c.close());
  return c;
}

function subscribe(port: number, callId: string, opts: { uri?: string; branch?: string; maxForwards?: number; toTag?: string } = {}): Buffer {
  const uri = opts.uri ?? 'sip:alice@example.com';
  return Buffer.from(
    `SUBSCRIBE ${uri} SIP/2.0\r\nVia: SIP/2.0/UDP ${HOST}:${port};branch=${opts.branch ?? `z9hG4bK${callId}`};rport\r\n` +
      `From: <sip:watcher@example.com>;tag=w1\r\nTo: <${uri}>${opts.toTag ? `;tag=${opts.toTag}` : ''}\r\nCall-ID: ${callId}@test\r\nCSeq: 1 SUBSCRIBE\r\n` +
      `Contact: <sip:watcher@${HOST}:${port}>\r\nMax-Forwards: ${opts.maxForwards ?? 70}\r\nEvent: presence\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n`,
  );
}

async function frontEnd(sink: SubscriptionSink, routing?: Parameters<typeof SipFrontEnd.start>[0]['routing']): Promise<SipFrontEnd> {
  const fe = await SipFrontEnd.start({
    host: HOST,
    port: 0,
    frontEndId: routing ? `fe-${routing.mode}` : 'em-fe',
    resolveKey,
    sink,
    ...(routing ? { routing } : {}),
  });
  cleanup.push(() => fe.stop());
  return fe;
}

describe('routing mode helpers', () => {
  it('parses the mode names and nothing else', () => {
    expect(parseFrontEndMode('proxy')).toBe('proxy');
    expect(() => parseFrontEndMode('stateful')).toThrow(/stateless, redirect, proxy/);
  });

  it("puts the presentity's user part into the owner's contact (tel: as user=phone)", () => {
    expect(ownerTargetUri('sip:10.0.0.7:5071', 'sip:alice@example.com')).toBe('sip:alice@10.0.0.7:5071');
    expect(ownerTargetUri('sip:10.0.0.7:5071;transport=tcp', 'tel:+351910000077')).toBe('sip:+351910000077@10.0.0.7:5071;transport=tcp;user=phone');
    expect(ownerTargetUri('sip:10.0.0.7:5071', 'sip:a%20b@example.com')).toBe('sip:a%20b@10.0.0.7:5071');
    expect(() => ownerTargetUri('tel:+1', 'sip:a@b')).toThrow(/not a sip: URI/);
  });

  it('§16.11 branch: equal for retransmissions, different per request and per target, marked as ours', () => {
    const a = parseSipMessage(subscribe(5000, 'c1'));
    const again = parseSipMessage(subscribe(5000, 'c1'));
    const other = parseSipMessage(subscribe(5000, 'c2'));
    expect(proxyBranch(a, 'sip:x@h:1')).toBe(proxyBranch(again, 'sip:x@h:1'));
    expect(proxyBranch(a, 'sip:x@h:1')).not.toBe(proxyBranch(other, 'sip:x@h:1'));
    expect(proxyBranch(a, 'sip:x@h:1')).not.toBe(proxyBranch(a, 'sip:x@h:2'));
    expect(proxyBranch(a, 'sip:x@h:1').startsWith(PROXY_BRANCH_PREFIX)).toBe(true);
    // RFC 2543 peers (no magic cookie): the recommended request fields are hashed instead.
    const old1 = parseSipMessage(subscribe(5000, 'c3', { branch: 'old1' }));
    const old2 = parseSipMessage(subscribe(5000, 'c4', { branch: 'old1' }));
    expect(proxyBranch(old1, 't')).not.toBe(proxyBranch(old2, 't'));
  });

  it('forwarding decrements Max-Forwards, adds our Via on top and retargets; 0 is too many hops; relaying removes our Via', () => {
    const req = parseSipMessage(subscribe(5000, 'c1', { maxForwards: 5 }));
    const d = forwardRequest(req, 'sip:alice@127.0.0.1:5071', { host: '127.0.0.1', port: 5060 });
    if (d.kind !== 'forward') throw new Error('expected a forward');
    expect(d.target).toEqual({ transport: 'udp', host: '127.0.0.1', port: 5071 });
    expect(d.request.requestUri).toBe('sip:alice@127.0.0.1:5071');
    expect(d.request.headers[0]![1]).toMatch(new RegExp(`^SIP/2.0/UDP 127.0.0.1:5060;branch=${PROXY_BRANCH_PREFIX}`));
    expect(d.request.headers.find(([n]) => n === 'Max-Forwards')?.[1]).toBe('4');
    expect(d.request.headers.filter(([n]) => n === 'Via')).toHaveLength(2);
    expect(forwardRequest(parseSipMessage(subscribe(5000, 'c1', { maxForwards: 0 })), 'sip:a@h:1', { host: 'h', port: 2 })).toEqual({ kind: 'too-many-hops' });

    const response = parseSipMessage(
      Buffer.from(
        `SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=${PROXY_BRANCH_PREFIX}x, SIP/2.0/UDP 10.1.1.1:5000;branch=z9hG4bKc1;rport=4000;received=10.2.2.2\r\n` +
          `From: <sip:w@e>;tag=w1\r\nTo: <sip:a@e>;tag=t\r\nCall-ID: c\r\nCSeq: 1 SUBSCRIBE\r\nContent-Length: 0\r\n\r\n`,
      ),
    );
    const relayed = relayResponse(response)!;
    expect(relayed.next).toMatchObject({ host: '10.1.1.1', received: '10.2.2.2', rport: 4000 });
    expect(relayed.response.headers.filter(([n]) => n === 'Via')).toEqual([['Via', 'SIP/2.0/UDP 10.1.1.1:5000;branch=z9hG4bKc1;rport=4000;received=10.2.2.2']]);
  });
});

describe('proxy and the trust domain (RFC 3325 §5)', () => {
  const withPai = (): Buffer =>
    Buffer.from(
      subscribe(5000, 'pai')
        .toString('latin1')
        .replace('Max-Forwards:', 'P-Asserted-Identity: <sip:boss@example.com>\r\nP-Preferred-Identity: <sip:boss@example.com>\r\nMax-Forwards:'),
      'latin1',
    );
  const names = (d: ReturnType<typeof forwardRequest>) => (d.kind === 'forward' ? d.request.headers.map(([n]) => n.toLowerCase()) : []);

  it('removes P-Asserted-Identity and P-Preferred-Identity from a sender outside it before forwarding', () => {
    const d = forwardRequest(parseSipMessage(withPai()), 'sip:alice@127.0.0.1:5071', { host: '127.0.0.1', port: 5060 });
    expect(names(d)).not.toContain('p-asserted-identity');
    expect(names(d)).not.toContain('p-preferred-identity');
    expect(names(d)).toContain('from');
  });

  it('passes them on from a trusted proxy', () => {
    const d = forwardRequest(parseSipMessage(withPai()), 'sip:alice@127.0.0.1:5071', { host: '127.0.0.1', port: 5060 }, true);
    expect(names(d)).toEqual(expect.arrayContaining(['p-asserted-identity', 'p-preferred-identity']));
  });
});

describe('proxy request validation', () => {
  it('§16.3 step 5: a Proxy-Require naming any extension is 420 with Unsupported (this proxy implements none), not forwarded', () => {
    const req = parseSipMessage(Buffer.from(subscribe(5000, 'pr1').toString().replace('Event: presence', 'Proxy-Require: foo, bar\r\nEvent: presence')));
    expect(forwardRequest(req, 'sip:alice@127.0.0.1:5071', { host: '127.0.0.1', port: 5060 })).toEqual({ kind: 'bad-extension', unsupported: ['foo', 'bar'] });
  });
});

describe('routing modes and TLS (RFC 3261 §26.2, RFC 5630)', () => {
  const accepted = {
    status: 200,
    toTag: 't',
    record: { key: 'aor:sip:alice@example.com', value: { presentity: 'aor:sip:alice@example.com' } },
  } as unknown as Parameters<NonNullable<ReturnType<typeof redirectRouting>['redirect']>>[1];
  const over = (via: string, uri = 'sip:alice@example.com') =>
    parseSipMessage(Buffer.from(subscribe(5099, 'tls1', { uri }).toString().replace('SIP/2.0/UDP', `SIP/2.0/${via}`)));

  it('redirect: a SUBSCRIBE that came over TLS is kept here when the owner has only a plain contact, and sent to a TLS contact as sips:', () => {
    const plain = redirectRouting({ contactOf: () => 'sip:10.0.0.7:5071' });
    expect(plain.redirect!(over('TLS'), accepted)).toBeUndefined();
    expect(plain.redirect!(over('UDP', 'sips:alice@example.com'), accepted)).toBeUndefined();
    expect(plain.stats).toMatchObject({ tlsKept: 2, redirected: 0 });
    expect(plain.redirect!(over('UDP'), accepted)?.status).toBe(302); // a plain one is redirected as before

    const secure = redirectRouting({ contactOf: () => 'sips:10.0.0.7:5072' });
    const moved = secure.redirect!(over('TLS'), accepted);
    expect(moved?.status).toBe(302);
    expect(moved?.headers).toEqual([['Contact', '<sips:alice@10.0.0.7:5072>']]);
    expect(secure.stats).toMatchObject({ tlsKept: 0, redirected: 1 });
  });

  it('redirect: an owner with both contacts gets TLS watchers at its SIPS contact and plain ones at its SIP contact; one with only a SIPS contact keeps plain watchers here', () => {
    const both = redirectRouting({ contactOf: () => 'sip:10.0.0.7:5071', secureContactOf: () => 'sips:10.0.0.7:5072' });
    expect(both.redirect!(over('TLS'), accepted)?.headers).toEqual([['Contact', '<sips:alice@10.0.0.7:5072>']]);
    expect(both.redirect!(over('UDP', 'sips:alice@example.com'), accepted)?.headers).toEqual([['Contact', '<sips:alice@10.0.0.7:5072>']]);
    expect(both.redirect!(over('UDP'), accepted)?.headers).toEqual([['Contact', '<sip:alice@10.0.0.7:5071>']]);
    expect(both.stats).toMatchObject({ tlsKept: 0, redirected: 3 });

    const tlsOnly = redirectRouting({ contactOf: () => null, secureContactOf: () => 'sips:10.0.0.7:5072' });
    expect(tlsOnly.redirect!(over('UDP'), accepted)).toBeUndefined();
    expect(tlsOnly.redirect!(over('TLS'), accepted)?.status).toBe(302);
    expect(tlsOnly.stats).toMatchObject({ ownerUnknown: 1, redirected: 1 });
  });

  it('proxy: a sips: SUBSCRIBE is not forwarded over a plain hop; the front end answers it (416 over UDP)', async () => {
    const emRecords: Subscription[] = [];
    const em = await frontEnd({ record: async (_k, v) => void emRecords.push(v) });
    const routing = proxyRouting({ owners: { contactOf: () => `sip:${HOST}:${em.port}` } });
    const fe = await frontEnd({ record: async () => {} }, routing);
    const c = await client();
    c.socket.send(subscribe(c.port, 'tls2', { uri: 'sips:alice@example.com' }), fe.port, HOST);
    expect((await c.next()).status).toBe(416);
    expect(emRecords).toEqual([]);
    expect(routing.stats).toMatchObject({ tlsKept: 1, proxied: 0 });
  });
});

describe('front end routing modes over UDP', () => {
  it("redirect: 302 with the owner's contact; the owner accepts the redirected SUBSCRIBE keyed by To; unknown owner falls back to recording", async () => {
    const emRecords: Subscription[] = [];
    const em = await frontEnd({ record: async (_k, v) => void emRecords.push(v) });
    const emContact = `sip:${HOST}:${em.port}`;
    const feRecords: string[] = [];
    const fe = await frontEnd(
      { record: async (k) => void feRecords.push(k) },
      redirectRouting({ contactOf: (k) => (k === 'aor:sip:alice@example.com' ? emContact : null) }),
    );
    const c = await client();

    c.socket.send(subscribe(c.port, 'r1'), fe.port, HOST);
    const moved = await c.next();
    expect(moved.status).toBe(302);
    expect(moved.contacts[0]?.uri).toBe(`sip:alice@${HOST}:${em.port}`);
    expect(feRecords).toEqual([]);

    // §8.1.3.4: the same request, Request-URI from the Contact, To unchanged.
    c.socket.send(
      subscribe(c.port, 'r1', { uri: moved.contacts[0]!.uri, branch: 'z9hG4bKr1b' })
        .toString()
        .replace(`To: <${moved.contacts[0]!.uri}>`, 'To: <sip:alice@example.com>'),
      em.port,
      HOST,
    );
    const ok = await c.next();
    expect(ok.status).toBe(200);
    expect(emRecords.map((r) => [r.presentity, r.presentityUri])).toEqual([['aor:sip:alice@example.com', 'sip:alice@example.com']]);

    c.socket.send(subscribe(c.port, 'r2', { uri: 'sip:bob@example.com' }), fe.port, HOST);
    expect((await c.next()).status).toBe(200);
    expect(feRecords).toEqual(['aor:sip:bob@example.com']);
    expect(fe.statsLine()).toContain('redirect: redirected 1, proxied 0, relayedResponses 0, ownerUnknown 1');
  });

  it("proxy: the owner's 200 comes back through the front end without the proxy's Via; retransmissions reuse the branch; Max-Forwards 0 → 483", async () => {
    const emRecords: Subscription[] = [];
    const em = await frontEnd({ record: async (_k, v) => void emRecords.push(v) });
    const emContact = `sip:${HOST}:${em.port}`;
    const fe = await frontEnd(
      { record: async () => Promise.reject(new Error('the proxy must not record')) },
      proxyRouting({ owners: { contactOf: () => emContact } }),
    );
    const c = await client();

    c.socket.send(subscribe(c.port, 'p1'), fe.port, HOST);
    const ok = await c.next();
    expect(ok.status).toBe(200);
    expect(ok.vias).toHaveLength(1);
    expect(ok.topVia?.branch).toBe('z9hG4bKp1');
    expect(ok.contacts[0]?.uri).toBe(emContact); // later refreshes go straight to the owner
    expect(emRecords.map((r) => r.presentity)).toEqual(['aor:sip:alice@example.com']);

    // A retransmission is forwarded again with the same branch: the owner's server transaction answers it, nothing is recorded twice.
    c.socket.send(subscribe(c.port, 'p1'), fe.port, HOST);
    expect((await c.next()).status).toBe(200);
    expect(emRecords).toHaveLength(1);

    c.socket.send(subscribe(c.port, 'p2', { maxForwards: 0 }), fe.port, HOST);
    expect((await c.next()).status).toBe(483);
    expect(fe.statsLine()).toContain('proxy: redirected 0, proxied 2, relayedResponses 2, ownerUnknown 0, tooManyHops 1');
  });

  it('a trusted proxy vouches for the Contacts it forwards, with SIP auth off too; anyone else does not', async () => {
    const recorded: Subscription[] = [];
    const fe = await SipFrontEnd.start({
      host: HOST,
      port: 0,
      frontEndId: 'em-fe-trusting',
      resolveKey,
      sink: { record: async (_k, v) => void recorded.push(v) },
      trustedProxies: new TrustedProxies([HOST]),
    });
    cleanup.push(() => fe.stop());
    const forwarded = (c: SipUdpClient, callId: string) =>
      subscribe(c.port, callId)
        .toString()
        .replace(`Contact: <sip:watcher@${HOST}:${c.port}>`, 'Contact: <sip:watcher@198.51.100.7:5060>')
        .replace('From: ', 'Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKua\r\nFrom: '); // the handset's Via below the proxy's
    const proxy = await client();
    proxy.socket.send(forwarded(proxy, 'tp1'), fe.port, HOST);
    expect((await proxy.next()).status).toBe(200);
    const outsider = await openSipUdpClient({ host: '127.0.0.2' });
    cleanup.push(() => outsider.close());
    outsider.socket.send(forwarded(outsider, 'tp2').replaceAll(`${HOST}:${outsider.port}`, `127.0.0.2:${outsider.port}`), fe.port, HOST);
    expect((await outsider.next()).status).toBe(200);
    expect(recorded.map((r) => [r.callId, r.contactVerified])).toEqual([
      ['tp1@test', true],
      ['tp2@test', false],
    ]);
  });

  it('proxy: a SUBSCRIBE whose Contact is not where it came from is handled here, not forwarded for the owner to believe (RFC 6665 §9)', async () => {
    const emRecords: Subscription[] = [];
    const em = await frontEnd({ record: async (_k, v) => void emRecords.push(v) });
    const feRecords: Subscription[] = [];
    const fe = await frontEnd({ record: async (_k, v) => void feRecords.push(v) }, proxyRouting({ owners: { contactOf: () => `sip:${HOST}:${em.port}` } }));
    const c = await client();
    c.socket.send(
      subscribe(c.port, 'pv1').toString().replace(`Contact: <sip:watcher@${HOST}:${c.port}>`, 'Contact: <sip:victim@198.51.100.7:5060>'),
      fe.port,
      HOST,
    );
    expect((await c.next()).status).toBe(200);
    expect(emRecords).toEqual([]);
    expect(feRecords.map((r) => [r.contact, r.contactVerified])).toEqual([['sip:victim@198.51.100.7:5060', false]]);
    expect(fe.statsLine()).toMatch(/proxied 0, .*contactKept 1/);
  });
});
