// The front end over real UDP on 127.0.0.1 with a fake subscription sink:
// the 200 goes out only after the record is taken; a sink that fails gives
// 500 with Retry-After and no 200; stats count responses by code.
import { afterEach, describe, expect, it } from 'vitest';
import { openSipUdpClient, type SipUdpClient } from '../test/support/sipUdpClient.ts';
import type { PublishRequest, Subscription } from '../schemas/generated/records.ts';
import { presentityKey } from './subscribeHandler.ts';
import { directoryResolver, SipFrontEnd, type SubscriptionSink } from './sipFrontEnd.ts';
import type { PublishService } from './publishHandler.ts';
import { entityTagOf } from '../presence-document/entityTag.ts';
import { loadSettings } from '../config/settings.ts';
import type { DirectoryEntry, SubscriberDirectory } from '../subscriber/directory/subscriberDirectory.ts';

const HOST = '127.0.0.1';
/** A publication service that must not be reached: whatever reaches it is refused, naming the key. */
const refusingPublish: PublishService = {
  submit: (k) => Promise.reject(new Error(`submitted ${k}`)),
  store: (k) => Promise.reject(new Error(`stored ${k}`)),
};
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

async function frontEnd(sink: SubscriptionSink, publish?: PublishService, maxInFlight?: number, dialogSecret?: Buffer): Promise<SipFrontEnd> {
  const fe = await SipFrontEnd.start({
    ...(dialogSecret ? { dialogSecret } : {}),
    host: HOST,
    port: 0,
    frontEndId: 'fe-unit',
    resolveKey: (u) => presentityKey(u, { countryCode: '351' }),
    sink,
    ...(publish ? { publish } : {}),
    ...(maxInFlight !== undefined ? { maxInFlight } : {}),
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

  it('records whether anyone vouched for the Contact: its own address yes, someone else’s no (RFC 6665 §9)', async () => {
    const recorded: Subscription[] = [];
    const fe = await frontEnd({ record: async (_k, v) => void recorded.push(v) });
    const c = await client();
    c.socket.send(subscribe(c.port, 'own'), fe.port, HOST);
    expect((await c.next()).status).toBe(200);
    c.socket.send(
      subscribe(c.port, 'victim').toString().replace(`Contact: <sip:watcher@${HOST}:${c.port}>`, 'Contact: <sip:victim@127.0.0.99:5060>'),
      fe.port,
      HOST,
    );
    expect((await c.next()).status).toBe(200);
    expect(recorded.map((r) => [r.callId, r.contactVerified])).toEqual([
      ['own@test', true],
      ['victim@test', false],
    ]);
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

  it('not ready: OPTIONS, SUBSCRIBE and PUBLISH get 503 + Retry-After without touching Kafka, other methods their usual answer; ready again: OPTIONS 200', async () => {
    let notReady: string | undefined = 'Kafka at 127.0.0.1:9 does not answer';
    const recorded: string[] = [];
    const fe = await SipFrontEnd.start({
      host: HOST,
      port: 0,
      frontEndId: 'fe-unit',
      resolveKey: (u) => presentityKey(u, { countryCode: '351' }),
      sink: { record: async (k) => void recorded.push(k) },
      publish: refusingPublish,
      notReadyReason: () => notReady,
    });
    cleanup.push(() => fe.stop());
    const c = await client();
    for (const [method, status] of [
      ['OPTIONS', 503],
      ['SUBSCRIBE', 503],
      ['PUBLISH', 503],
      ['NOTIFY', 405],
    ] as const) {
      c.socket.send(subscribe(c.port, `nr-${method}`).toString().replaceAll('SUBSCRIBE', method), fe.port, HOST);
      const r = await c.next();
      expect([method, r.status]).toEqual([method, status]);
      if (status === 503) expect(r.retryAfter).toBe(5);
    }
    expect(recorded).toEqual([]);
    expect(fe.stats).toMatchObject({ notReady: 3, responses: { 503: 3, 405: 1 } });
    expect(fe.notReadyReason).toBe(notReady);

    notReady = undefined;
    c.socket.send(subscribe(c.port, 'nr-again').toString().replaceAll('SUBSCRIBE', 'OPTIONS'), fe.port, HOST);
    expect((await c.next()).status).toBe(200);
    c.socket.send(subscribe(c.port, 'nr-sub'), fe.port, HOST);
    expect((await c.next()).status).toBe(200);
    expect(recorded).toHaveLength(1);
  });

  it('rejections reach the wire: 489, 423, OPTIONS 200, PUBLISH without a body 400, NOTIFY 405; nothing is recorded or submitted', async () => {
    const recorded: string[] = [];
    const fe = await frontEnd({ record: async (k) => void recorded.push(k) }, refusingPublish);
    const c = await client();
    c.socket.send(subscribe(c.port, 'c1').toString().replace('Event: presence', 'Event: dialog.winfo'), fe.port, HOST);
    const bad = await c.next();
    expect(bad.status).toBe(489);
    expect(bad.headers.get('allow-events')).toBe('presence, dialog, presence.winfo, message-summary, message');
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
  it('Max-Forwards 0 is 483 Too Many Hops for a SUBSCRIBE or PUBLISH (RFC 3261 §16.3), never recorded; an OPTIONS with 0 is still answered 200', async () => {
    const recorded: string[] = [];
    const fe = await frontEnd({ record: async (k) => void recorded.push(k) }, refusingPublish);
    const c = await client();
    for (const [method, status] of [
      ['SUBSCRIBE', 483],
      ['PUBLISH', 483],
      ['OPTIONS', 200],
    ] as const) {
      c.socket.send(subscribe(c.port, `mf-${method}`).toString().replaceAll('SUBSCRIBE', method).replace('Max-Forwards: 70', 'Max-Forwards: 0'), fe.port, HOST);
      expect([method, (await c.next()).status]).toEqual([method, status]);
    }
    expect(recorded).toEqual([]);
  });

  it('its transport applies the flood limits it is given: a source past its rate is not answered, and the stats line says so', async () => {
    const fe = await SipFrontEnd.start({
      host: HOST,
      port: 0,
      resolveKey: (u) => presentityKey(u, { countryCode: '351' }),
      sink: { record: async () => {} },
      limits: { requestsPerSecond: 5, burst: 5 },
    });
    cleanup.push(() => fe.stop());
    const c = await client();
    for (let i = 0; i < 30; i++) c.socket.send(subscribe(c.port, `rl${i}`).toString().replaceAll('SUBSCRIBE', 'OPTIONS'), fe.port, HOST);
    const answered: number[] = [];
    for (;;) {
      const r = await c.next(300).catch(() => undefined);
      if (!r) break;
      answered.push(r.status ?? 0);
    }
    expect(answered.length).toBeGreaterThanOrEqual(5);
    expect(answered.length).toBeLessThan(10);
    expect(fe.statsLine()).toMatch(new RegExp(`transport: rate-limited ${30 - answered.length}`));
  });

  it('with a dialog secret, a refresh whose To-tag this front end (or a peer sharing the secret) never issued is 481; its own tags refresh with 200', async () => {
    const secret = Buffer.from('a secret the front ends share');
    const recorded: Array<{ key: string; value: Subscription }> = [];
    const fe = await frontEnd({ record: async (key, value) => void recorded.push({ key, value }) }, undefined, undefined, secret);
    const peer = await frontEnd({ record: async (key, value) => void recorded.push({ key, value }) }, undefined, undefined, secret);
    const c = await client();
    c.socket.send(subscribe(c.port, 'dlg'), fe.port, HOST);
    const first = await c.next();
    expect(first.status).toBe(200);
    const tag = first.to!.tag!;
    const refresh = (toTag: string, branch: string) =>
      subscribe(c.port, branch)
        .toString()
        .replace('Call-ID: ' + branch, 'Call-ID: dlg')
        .replace('To: <sip:alice@example.com>', `To: <sip:alice@example.com>;tag=${toTag}`)
        .replace('CSeq: 1', 'CSeq: 2');
    c.socket.send(refresh(tag, 'dlg-r1'), peer.port, HOST); // a refresh reaching another front end
    expect((await c.next()).status).toBe(200);
    c.socket.send(refresh('forged0tag', 'dlg-r2'), fe.port, HOST);
    const unknown = await c.next();
    expect(unknown.status).toBe(481);
    expect(recorded.map((r) => r.value.localTag)).toEqual([tag, tag]);
  });

  it('a Require naming an extension we lack is 420 with Unsupported (RFC 3261 §8.2.2.3), not recorded or published; Require: eventlist passes', async () => {
    const recorded: string[] = [];
    const fe = await frontEnd({ record: async (k) => void recorded.push(k) }, refusingPublish);
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

const PIDF_BODY =
  '<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:alice@example.com"><tuple id="t"><status><basic>open</basic></status></tuple></presence>';

/** An initial PUBLISH for alice; the same branch is a retransmission of the same transaction. */
function publish(port: number, branch: string, extra = ''): Buffer {
  return Buffer.from(
    `PUBLISH sip:alice@example.com SIP/2.0\r\nVia: SIP/2.0/UDP ${HOST}:${port};branch=z9hG4bK${branch}\r\n` +
      `From: <sip:alice@example.com>;tag=p1\r\nTo: <sip:alice@example.com>\r\nCall-ID: ${branch}@test\r\nCSeq: 1 PUBLISH\r\n` +
      `Max-Forwards: 70\r\nEvent: presence\r\nExpires: 600\r\n${extra}Content-Type: application/pidf+xml\r\nContent-Length: ${PIDF_BODY.length}\r\n\r\n${PIDF_BODY}`,
  );
}

/** A publication service whose answers (and stores) wait until released; counts what it was given. */
function heldPublishService() {
  const submitted: PublishRequest[] = [];
  const held: Array<() => void> = [];
  const service: PublishService = {
    store: (_key, request) => {
      submitted.push(request);
      return new Promise((resolve) => held.push(resolve));
    },
    submit: (_key, request) => {
      submitted.push(request);
      return new Promise((resolve) =>
        held.push(() =>
          resolve({
            requestId: request.requestId,
            frontEnd: request.frontEnd,
            status: 200,
            etag: 'etag-1',
            expires: 600,
            reason: null,
            time: request.receivedAt,
          }),
        ),
      );
    },
  };
  return { service, submitted, releaseAll: () => held.splice(0).forEach((r) => r()) };
}

describe('overload and retransmissions', () => {
  it('past maxInFlight an acceptable SUBSCRIBE or PUBLISH is 503 with Retry-After, sent nowhere; bad input keeps its own answer; a freed slot admits again', async () => {
    const recorded: string[] = [];
    const held = heldPublishService();
    const fe = await frontEnd({ record: async (k) => void recorded.push(k) }, held.service, 1);
    const c = await client();
    c.socket.send(publish(c.port, 'o1'), fe.port, HOST); // takes the only slot
    await expect(c.next(300)).rejects.toThrow(/no SIP message/);
    c.socket.send(subscribe(c.port, 'o2'), fe.port, HOST);
    const busySub = await c.next();
    expect([busySub.status, busySub.retryAfter]).toEqual([503, 5]);
    c.socket.send(publish(c.port, 'o3'), fe.port, HOST);
    const busyPub = await c.next();
    expect([busyPub.status, busyPub.retryAfter]).toEqual([503, 5]);
    expect(busyPub.sipETag).toBeUndefined();
    c.socket.send(publish(c.port, 'o4').toString().replace('Event: presence', 'Event: message-summary'), fe.port, HOST);
    expect((await c.next()).status).toBe(489);
    c.socket.send(subscribe(c.port, 'o5', 'Expires: 10\r\n'), fe.port, HOST);
    expect((await c.next()).status).toBe(423);
    expect(recorded).toEqual([]);
    expect(held.submitted).toHaveLength(1);
    held.releaseAll();
    expect((await c.next()).status).toBe(200); // the PUBLISH that held the slot
    c.socket.send(subscribe(c.port, 'o6'), fe.port, HOST);
    expect((await c.next()).status).toBe(200);
    expect(recorded).toHaveLength(1);
    expect(fe.stats).toMatchObject({ overloaded: 2, responses: { 200: 2, 423: 1, 489: 1, 503: 2 } });
  });

  it('retransmissions of a pending PUBLISH are absorbed (one request to the event manager, one 200); one after the answer gets the same 200 again', async () => {
    const held = heldPublishService();
    const fe = await frontEnd({ record: async () => {} }, held.service);
    const c = await client();
    for (let i = 0; i < 3; i++) c.socket.send(publish(c.port, 'rt1'), fe.port, HOST);
    await expect(c.next(300)).rejects.toThrow(/no SIP message/);
    expect(held.submitted).toHaveLength(1);
    held.releaseAll();
    const first = await c.next();
    expect([first.status, first.sipETag]).toEqual([200, entityTagOf(held.submitted[0]!.requestId)]);
    c.socket.send(publish(c.port, 'rt1'), fe.port, HOST);
    const again = await c.next();
    expect([again.status, again.sipETag, again.to?.tag]).toEqual([200, first.sipETag, first.to?.tag]);
    expect(held.submitted).toHaveLength(1);
    expect(fe.stats.requests).toEqual({ PUBLISH: 1 });
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
