// The front end over real UDP on 127.0.0.1 with a fake subscription sink:
// the 200 goes out only after the record is taken; a sink that fails gives
// 500 with Retry-After and no 200; stats count responses by code.
import { afterEach, describe, expect, it } from 'vitest';
import { openSipUdpClient, type SipUdpClient } from '../test/support/sipUdpClient.ts';
import type { Subscription } from '../schemas/generated/records.ts';
import { presentityKey } from './subscribeHandler.ts';
import { directoryResolver, SipFrontEnd, type SubscriptionSink } from './sipFrontEnd.ts';
import type { PublishService } from './publishHandler.ts';
import { loadSettings } from '../config/settings.ts';
import type { DirectoryEntry, SubscriberDirectory } from '../subscriber/directory/subscriberDirectory.ts';

const HOST = '127.0.0.1';
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function client(): Promise<SipUdpClient> {
  const c = await openSipUdpClient({ host: HOST });
  cleanup.push(() => c.close());
  return c;
}

function subscribe(port: number, branch: string, extra = ''): Buffer {
  return Buffer.from(
    `SUBSCRIBE sip:alice@example.com SIP/2.0\r\nVia: SIP/2.0/UDP ${HOST}:${port};branch=z9hG4bK${branch}\r\n` +
      `From: <sip:watcher@example.com>;tag=w1\r\nTo: <sip:alice@example.com>\r\nCall-ID: ${branch}@test\r\nCSeq: 1 SUBSCRIBE\r\n` +
      `Contact: <sip:watcher@${HOST}:${port}>\r\nMax-Forwards: 70\r\nEvent: presence\r\n${extra}Content-Length: 0\r\n\r\n`,
  );
}

async function frontEnd(sink: SubscriptionSink, publish?: PublishService): Promise<SipFrontEnd> {
  const fe = await SipFrontEnd.start({
    host: HOST,
    port: 0,
    frontEndId: 'fe-unit',
    resolveKey: (u) => presentityKey(u, { countryCode: '351' }),
    sink,
    ...(publish ? { publish } : {}),
  });
  cleanup.push(() => fe.stop());
  return fe;
}

describe('SIP front end', () => {
  it('answers 200 only after the subscription is recorded, with the recorded To-tag', async () => {
    const events: string[] = [];
    const recorded: Array<{ key: string; value: Subscription }> = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const fe = await frontEnd({
      async record(key, value) {
        events.push('record-start');
        await gate;
        recorded.push({ key, value });
        events.push('recorded');
      },
    });
    const c = await client();
    c.socket.send(subscribe(c.port, 'a1'), fe.port, HOST);
    await expect(c.next(300)).rejects.toThrow(/no SIP message/); // nothing while Kafka has not taken it
    release();
    const res = await c.next();
    events.push('response');
    expect(res.status).toBe(200);
    expect(res.expires).toBe(3600);
    expect(res.to?.tag).toBeDefined();
    expect(events).toEqual(['record-start', 'recorded', 'response']);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]!.key).toBe('aor:sip:alice@example.com');
    expect(recorded[0]!.value.localTag).toBe(res.to?.tag);
    expect(res.headers.get('contact')).toBe(`<sip:${HOST}:${fe.port}>`);
    expect(fe.stats.responses).toEqual({ 200: 1 });
    expect(fe.stats.recorded).toBe(1);
  });

  it('answers 500 with Retry-After: 5 when the record is not taken, never 200', async () => {
    const fe = await frontEnd({ record: async () => Promise.reject(new Error('Kafka at x did not take the record')) });
    const c = await client();
    c.socket.send(subscribe(c.port, 'b1'), fe.port, HOST);
    const res = await c.next();
    expect(res.status).toBe(500);
    expect(res.retryAfter).toBe(5);
    expect(fe.stats).toMatchObject({ recorded: 0, recordFailures: 1, responses: { 500: 1 } });
  });

  it('rejections reach the wire: 489, 423, OPTIONS 200, PUBLISH without a body 400, NOTIFY 405; nothing is recorded or submitted', async () => {
    const recorded: string[] = [];
    const fe = await frontEnd({ record: async (k) => void recorded.push(k) }, { submit: async (k) => Promise.reject(new Error(`submitted ${k}`)) });
    const c = await client();
    c.socket.send(subscribe(c.port, 'c1').toString().replace('Event: presence', 'Event: dialog'), fe.port, HOST);
    const bad = await c.next();
    expect(bad.status).toBe(489);
    expect(bad.headers.get('allow-events')).toBe('presence');
    c.socket.send(subscribe(c.port, 'c2', 'Expires: 10\r\n'), fe.port, HOST);
    const brief = await c.next();
    expect(brief.status).toBe(423);
    expect(brief.minExpires).toBe(60);
    for (const [method, status] of [
      ['OPTIONS', 200],
      ['PUBLISH', 400],
      ['NOTIFY', 405],
    ] as const) {
      c.socket.send(subscribe(c.port, `c-${method}`).toString().replaceAll('SUBSCRIBE', method), fe.port, HOST);
      const r = await c.next();
      expect([method, r.status]).toEqual([method, status]);
      if (status !== 400) expect(r.headers.get('allow')).toBe('SUBSCRIBE, PUBLISH, OPTIONS');
    }
    expect(recorded).toEqual([]);
    expect(fe.stats.responses).toEqual({ 200: 1, 400: 1, 405: 1, 423: 1, 489: 1 });
    expect(fe.statsLine()).toContain('responses 200:1 400:1 405:1 423:1 489:1');
  });
  it('a Require naming an extension we lack is 420 with Unsupported (RFC 3261 §8.2.2.3), not recorded or published; Require: eventlist passes', async () => {
    const recorded: string[] = [];
    const fe = await frontEnd({ record: async (k) => void recorded.push(k) }, { submit: async (k) => Promise.reject(new Error(`submitted ${k}`)) });
    const c = await client();
    c.socket.send(subscribe(c.port, 'r1', 'Require: eventlist, foo-ext\r\n'), fe.port, HOST);
    const r = await c.next();
    expect(r.status).toBe(420);
    expect(r.headers.get('unsupported')).toBe('foo-ext');
    expect(r.to?.tag).toBeDefined();
    c.socket.send(subscribe(c.port, 'r2', 'Require: 100rel\r\n').toString().replaceAll('SUBSCRIBE', 'PUBLISH'), fe.port, HOST);
    expect((await c.next()).status).toBe(420);
    c.socket.send(subscribe(c.port, 'r3', 'Require: EventList\r\n'), fe.port, HOST);
    expect((await c.next()).status).toBe(200);
    expect(recorded).toEqual(['aor:sip:alice@example.com']);
  });
});

describe('advertised host', () => {
  it('the 200 Contact (where refreshes come) names the advertised host, not the listening address', async () => {
    const fe = await SipFrontEnd.start({
      host: HOST,
      port: 0,
      frontEndId: 'fe-adv',
      advertisedHost: 'fe.example.net',
      resolveKey: (u) => presentityKey(u, { countryCode: '351' }),
      sink: { record: async () => {} },
    });
    cleanup.push(() => fe.stop());
    const c = await client();
    c.socket.send(subscribe(c.port, 'adv1'), fe.port, HOST);
    const res = await c.next();
    expect(res.status).toBe(200);
    expect(res.headers.get('contact')).toBe(`<sip:fe.example.net:${fe.port}>`);
  });
});

describe('directory key resolution', () => {
  const entries = new Map<string, DirectoryEntry>([
    ['msisdn:+351910000042', { key: 'imsi:268010000000042', msisdn: '+351910000042', imsi: '268010000000042', aor: null }],
  ]);
  const directory = {
    resolveMany: async (refs: Array<{ kind: string; value: string }>) =>
      new Map(refs.map((r) => [`${r.kind}:${r.value}`, entries.get(`${r.kind}:${r.value}`) ?? null])),
  } as unknown as SubscriberDirectory;
  const settings = (unknown: 'drop' | 'keep') => {
    const s = loadSettings();
    return { ...s, identity: { ...s.identity, countryCode: '351', unknownSubscribers: unknown } };
  };

  it("a known identity gets the directory's key; an unknown one is 404 when dropped, its own key when kept", async () => {
    const drop = directoryResolver(settings('drop'), directory);
    expect(await drop('tel:+351910000042')).toBe('imsi:268010000000042');
    expect(await drop('sip:bob@example.com')).toBeUndefined();
    expect(await drop('sip:example.com')).toBeUndefined();
    expect(await directoryResolver(settings('keep'), directory)('sip:bob@example.com')).toBe('aor:sip:bob@example.com');
    expect(await directoryResolver(settings('drop'))('sip:bob@example.com')).toBe('aor:sip:bob@example.com'); // no directory
  });
});
