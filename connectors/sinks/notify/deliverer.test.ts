import { describe, expect, it } from 'vitest';
import { parseSipMessage } from '../../../protocols/decode/sip/index.ts';
import { buildResponse, serialize } from '../../../protocols/sip/message/index.ts';
import { TransactionLayer } from '../../../protocols/sip/transaction/index.ts';
import { ManualClock } from '../../../test/support/manualClock.ts';
import { FakeTransport } from '../../../test/support/fakeTransport.ts';
import { Resolver } from 'node:dns/promises';
import { SipServerLocator } from '../../../protocols/sip/transport/index.ts';
import { startDnsServer } from '../../../test/support/dnsServer.ts';
import { NotifyDeliverer, StoppedError } from './deliverer.ts';
import { Semaphore } from './scheduling.ts';
import { notifyRecord } from '../../../test/support/notifyRecords.ts';

const SRC = { transport: 'udp' as const, address: '192.0.2.10', port: 5070 };
const flush = () => new Promise((r) => setImmediate(r));

function setup(maxAttempts = 3, unansweredMaxAttempts = maxAttempts, locator?: SipServerLocator) {
  const clock = new ManualClock();
  const transport = new FakeTransport();
  const layer = new TransactionLayer(transport, { onRequest: () => {} }, { clock, timers: { T1: 50 } });
  const sleeps: number[] = [];
  let stopping = false;
  const d = new NotifyDeliverer({
    layer,
    contact: 'sip:127.0.0.1:5070',
    semaphore: new Semaphore(4),
    policy: { maxAttempts, backoffBaseMs: 100, backoffMaxMs: 1000, retryAfterMaxMs: 10_000, unansweredMaxAttempts },
    sleep: async (ms) => void sleeps.push(ms),
    stopping: () => stopping,
    ...(locator ? { locator } : {}),
  });
  /** Answers the last request sent with `status` (extra header lines optional). */
  const answer = (status: number, headers: Array<[string, string]> = []) => {
    const req = parseSipMessage(transport.sent.at(-1)!.bytes);
    transport.deliver(parseSipMessage(serialize(buildResponse(req, status, { headers }))), SRC);
  };
  return { clock, transport, layer, d, sleeps, answer, stop: () => (stopping = true) };
}

describe('NotifyDeliverer', () => {
  it("tries the domain's next located server when one answers 503 or is unreachable (RFC 3263 §4.3), never for an unvouched Contact", async () => {
    const none = () => Promise.reject(Object.assign(new Error('ENODATA'), { code: 'ENODATA' }));
    const servers = [
      { name: 'a.watchers.example', port: 5061, priority: 10, weight: 0 },
      { name: 'b.watchers.example', port: 5062, priority: 20, weight: 0 },
      { name: 'c.watchers.example', port: 5063, priority: 30, weight: 0 },
    ];
    const locator = () => new SipServerLocator({ resolveNaptr: none, resolveSrv: async (n) => (n === '_sip._udp.watchers.example' ? servers : none()) });
    const s = setup(3, 3, locator());
    const p = s.d.deliver(notifyRecord({ requestUri: 'sip:watcher@watchers.example;transport=udp' }));
    await eventuallySent(s.transport);
    s.answer(503);
    await eventuallySent(s.transport, 2);
    s.answer(200);
    await expect(p).resolves.toMatchObject({ outcome: 'delivered', attempts: 2 });
    expect(s.transport.sent.map((x) => `${x.target.host}:${x.target.port}`)).toEqual(['a.watchers.example:5061', 'b.watchers.example:5062']);
    expect(s.sleeps).toEqual([]); // at once, no backoff
    expect(s.d.stats.serverFailovers).toBe(1);
    // A Contact nobody vouched for gets its one try at the first server only.
    const u = setup(3, 3, locator());
    const q = u.d.deliver(notifyRecord({ requestUri: 'sip:watcher@watchers.example;transport=udp', contactVerified: false }));
    await eventuallySent(u.transport);
    u.answer(503);
    await expect(q).resolves.toMatchObject({ attempts: 1 });
    expect(u.transport.sent).toHaveLength(1);
  });

  it('locates a Contact naming a domain without a port by NAPTR and SRV (RFC 3263), through a DNS server on loopback', async () => {
    const dns = await startDnsServer({
      naptr: { 'watchers.example': [{ order: 10, preference: 10, flags: 'S', service: 'SIP+D2T', replacement: '_sip._tcp.watchers.example' }] },
      srv: { '_sip._tcp.watchers.example': [{ priority: 10, weight: 0, port: 5999, target: 'edge.watchers.example' }] },
    });
    try {
      const resolver = new Resolver({ timeout: 1000, tries: 1 });
      resolver.setServers([dns.address]);
      const s = setup(3, 3, new SipServerLocator(resolver));
      const p = s.d.deliver(notifyRecord({ requestUri: 'sip:watcher@watchers.example' }));
      await eventuallySent(s.transport);
      expect(dns.asked).toEqual(['NAPTR watchers.example', 'SRV _sip._tcp.watchers.example']);
      expect(s.transport.sent[0]!.target).toEqual({ transport: 'tcp', host: 'edge.watchers.example', port: 5999 });
      // The Request-URI stays the watcher's; only where it goes was looked up.
      expect(parseSipMessage(s.transport.sent[0]!.bytes).requestUri).toBe('sip:watcher@watchers.example');
      s.answer(200);
      await expect(p).resolves.toMatchObject({ outcome: 'delivered' });
      // An address with a port asks nothing.
      const q = s.d.deliver(notifyRecord());
      await flush();
      expect(dns.asked).toHaveLength(2);
      s.answer(200);
      await q;
    } finally {
      await dns.close();
    }
  });

  it('sends the NOTIFY to the Request-URI and reports 200 as delivered after one attempt', async () => {
    const s = setup();
    const p = s.d.deliver(notifyRecord());
    await flush();
    expect(s.transport.sent).toHaveLength(1);
    expect(s.transport.sent[0]!.target).toEqual({ transport: 'udp', host: '192.0.2.10', port: 5070 });
    const sent = parseSipMessage(s.transport.sent[0]!.bytes);
    expect(sent.method).toBe('NOTIFY');
    expect(sent.headers.get('via')).toMatch(/^SIP\/2\.0\/UDP 127\.0\.0\.1:5070;branch=z9hG4bK/);
    s.answer(200);
    await expect(p).resolves.toMatchObject({ outcome: 'delivered', statusCode: 200, attempts: 1, reason: null });
    expect(s.d.stats.byOutcome.delivered).toBe(1);
  });

  it('503 with Retry-After is retried after that long, as a new transaction; then 200', async () => {
    const s = setup();
    const p = s.d.deliver(notifyRecord());
    await flush();
    s.answer(503, [['Retry-After', '2']]);
    await flush();
    await flush();
    expect(s.sleeps).toEqual([2000]);
    expect(s.transport.sent).toHaveLength(2);
    const [a, b] = s.transport.sent.map((x) => parseSipMessage(x.bytes));
    expect(a!.topVia?.branch).not.toBe(b!.topVia?.branch);
    expect(b!.cseq.seq).toBe(7); // same NOTIFY, same CSeq
    s.answer(200);
    await expect(p).resolves.toMatchObject({ outcome: 'delivered', attempts: 2 });
  });

  it('Timer F on every attempt: gave-up after maxAttempts, with the NOTIFY bytes for the dead letter', async () => {
    const s = setup(2);
    const p = s.d.deliver(notifyRecord());
    await flush();
    s.clock.advance(64 * 50);
    await flush();
    await flush();
    expect(s.sleeps).toEqual([100]);
    s.clock.advance(64 * 50);
    const r = await p;
    expect(r).toMatchObject({ outcome: 'gave-up', statusCode: null, attempts: 2 });
    expect(r.reason).toMatch(/Timer F.*2 attempts/);
    expect(r.bytes.toString()).toMatch(/^NOTIFY sip:watcher@192\.0\.2\.10:5070 SIP\/2\.0\r\n/);
    expect(s.transport.sent.length).toBeGreaterThan(2); // Timer E retransmissions over UDP
  });

  it('a NOTIFY to a Contact nobody vouched for gets one attempt: gave-up after Timer F, no retry (RFC 6665 §9)', async () => {
    const s = setup(3);
    const p = s.d.deliver(notifyRecord({ contactVerified: false }));
    await flush();
    s.clock.advance(64 * 50);
    const r = await p;
    expect(r).toMatchObject({ outcome: 'gave-up', attempts: 1 });
    expect(s.sleeps).toEqual([]);
    // Its Timer E retransmissions are the only repeats: one transaction, one branch.
    expect(new Set(s.transport.sent.map((x) => parseSipMessage(x.bytes).topVia?.branch)).size).toBe(1);
  });

  it('a vouched-for Contact that answers nothing is given up on after unansweredMaxAttempts, not maxAttempts, and counted (RFC 6665 §9)', async () => {
    const s = setup(4, 2);
    const p = s.d.deliver(notifyRecord());
    await flush();
    s.clock.advance(64 * 50);
    await flush();
    await flush();
    s.clock.advance(64 * 50);
    const r = await p;
    expect(r).toMatchObject({ outcome: 'gave-up', statusCode: null, attempts: 2, answered: false });
    expect(r.reason).toMatch(/gave up after 2 unanswered attempts/);
    expect(s.sleeps).toEqual([100]);
    expect(s.d.stats.unanswered).toBe(1);
    // Bounded: two transactions, each its Timer E retransmissions within Timer F (64·T1) and no more.
    const branches = new Set(s.transport.sent.map((x) => parseSipMessage(x.bytes).topVia?.branch));
    expect(branches.size).toBe(2);
    expect(s.transport.sent.length).toBeLessThanOrEqual(2 * 11);
  });

  it('a Contact that answered once (503) keeps the full maxAttempts through later timeouts', async () => {
    const s = setup(4, 2);
    const p = s.d.deliver(notifyRecord());
    await flush();
    s.answer(503);
    for (let i = 0; i < 3; i++) {
      await flush();
      await flush();
      s.clock.advance(64 * 50);
    }
    const r = await p;
    expect(r).toMatchObject({ outcome: 'gave-up', attempts: 4, answered: true });
    expect(s.d.stats.unanswered).toBe(0);
  });

  it('481 is gone, 403 rejected, both after one attempt', async () => {
    const s = setup();
    const p1 = s.d.deliver(notifyRecord({ callId: 'a' }));
    await flush();
    s.answer(481);
    await expect(p1).resolves.toMatchObject({ outcome: 'gone', statusCode: 481, attempts: 1 });
    const p2 = s.d.deliver(notifyRecord({ callId: 'b' }));
    await flush();
    s.answer(403);
    await expect(p2).resolves.toMatchObject({ outcome: 'rejected', statusCode: 403, attempts: 1 });
  });

  it('a NOTIFY that cannot be sent (sips: over a plain transport, header injection) is rejected without an attempt', async () => {
    const s = setup();
    await expect(s.d.deliver(notifyRecord({ requestUri: 'sips:w@example.com;transport=udp' }))).resolves.toMatchObject({
      outcome: 'rejected',
      attempts: 0,
      statusCode: null,
    });
    const r = await s.d.deliver(notifyRecord({ subscriptionState: 'terminated', reason: 'x\r\nX-Evil: 1' }));
    expect(r).toMatchObject({ outcome: 'rejected', attempts: 0 });
    expect(r.reason).toMatch(/line break/);
    expect(s.transport.sent).toHaveLength(0);
  });

  it('stopping mid-delivery ends with StoppedError instead of an outcome (the record is re-read later)', async () => {
    const s = setup();
    const p = s.d.deliver(notifyRecord());
    await flush();
    s.stop();
    s.layer.close();
    await expect(p).rejects.toBeInstanceOf(StoppedError);
  });
});

/** Waits (real time: a DNS round trip) until the deliverer has sent `count` requests. */
async function eventuallySent(t: FakeTransport, count = 1): Promise<void> {
  for (let i = 0; i < 200 && t.sent.length < count; i++) await new Promise((r) => setTimeout(r, 10));
}
