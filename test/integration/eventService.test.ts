// Issue 17 on the real broker, registry and database: the service-event deriver and
// the event service, end to end.
// - A missed call (ISUP IAM then REL without ANM, as the taps publish them) becomes
//   call.offered then call.missed for the called subscriber, delivered to a webhook.
// - The webhook receiver is down for a while, then up: it gets everything it missed,
//   in order, once per event id, signed with the registered secret — with a second
//   instance of the service running (one webhook sender at a time).
// - Event type notices: the last publisher of a type removed, then back.
// - Pull with the server-kept cursor across a restart of the service, and long
//   polling (wait=); SSE resuming
//   from Last-Event-ID; the event log's per-recipient flags and answers.
// - Bad registration (400 naming the field), no token (401), wrong scope (403).
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { BearerTokens, newToken } from '../../protocols/http/bearerTokens.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { startEventService, type EventService, type EventServiceOptions } from '../../services/event-service/eventService.ts';
import { startEventDeriver, type EventDeriver } from '../../streams/service-events/serviceEventDeriver.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { PROFESSIONAL } from '../support/availabilityProfiles.ts';
import { AvailabilityStore } from '../../subscriber/availability/availabilityStore.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { isupEvent } from '../support/signalingEvents.ts';
import { SseClient } from '../support/sseClient.ts';
import { eventually, sleep } from '../support/wait.ts';

const base = isolatedSettings('evsvc', 2);
const s = { ...base, database: { ...base.database, url: testDatabaseUrl } };
const schema = `it_evsvc_${process.pid}`;
const A = 'msisdn:+9997000000171';
const SECRET = 'crm-webhook-secret-0123';

const admin = newToken('provisioning', ['events:register', 'events:read']);
const crm = newToken('crm', ['events:read']);
const puller = newToken('voicemail', ['events:read']);
const softphone = newToken('softphone', ['events:read']);
const billing = newToken('billing', ['events:publish']);
const buddy = newToken('buddy', ['events:read']);
const tokens = BearerTokens.parse([admin, crm, puller, softphone, billing, buddy].map((t) => t.line).join('\n'));
/** The availability profiles contact-list subscriptions read (the availability service's tables, in a schema of the test's). */
const availabilitySchema = `it_evsvc_av_${process.pid}`;
const bearer = (t: { token: string }) => ({ authorization: `Bearer ${t.token}` });

const serviceOptions: EventServiceOptions = {
  port: 0,
  schema,
  availabilitySchema,
  tokens,
  groupId: `${s.topics.prefix}event-service`,
  webhooks: { baseBackoffMs: 100, maxBackoffMs: 800, pollMs: 100, timeoutMs: 2000 },
  heartbeatMs: 1000,
  notices: { checkMs: 200, silenceMs: 10 * 60 * 1000 },
  log: (line) => console.log(`[event-service] ${line}`),
};

let svc: EventService;
let deriver: EventDeriver;
let url: string;
let producer: RecordProducer;
const serde = new RecordSerde(s.registry.url, s.topics.prefix);

interface Received {
  id: string;
  type: string;
  body: { eventId: string; type: string; subject: string; payload: Record<string, unknown> };
  signatureOk: boolean;
}
const received: Received[] = [];
let receiver: http.Server | undefined;
/** Reserved now, listened on later: until then the webhook meets a refused connection. */
let receiverPort: number;

function startReceiver(): Promise<void> {
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const expected = `sha256=${createHmac('sha256', SECRET).update(raw).digest('hex')}`;
      received.push({
        id: String(req.headers['x-event-id']),
        type: String(req.headers['x-event-type']),
        body: JSON.parse(raw),
        signatureOk: req.headers['x-event-signature'] === expected,
      });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('thanks');
    });
  });
  return new Promise((r) => receiver!.listen(receiverPort, '127.0.0.1', () => r()));
}

async function call(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function start(): Promise<void> {
  svc = await startEventService(s, serviceOptions);
  url = `http://127.0.0.1:${svc.port}`;
}

const gauge = (used: number) => ({
  type: 'usage.gauge',
  subject: '+9997000000171',
  eventId: `g-${used}`,
  payload: { gauge: 'voice-minutes', used, limit: 100, unit: 'min' },
});

beforeAll(async () => {
  await applyIsolated(s);
  await serde.loadIds();
  producer = new RecordProducer(s.kafka.brokers, 'it-evsvc', 15_000);
  await producer.connect();
  // A port nobody listens on yet (the receiver takes it later).
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  receiverPort = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  deriver = await startEventDeriver(s, { memberId: 'it-1', fetchWaitMs: 50 });
  await start();
}, 120_000);

afterAll(async () => {
  await svc?.stop();
  await deriver?.stop();
  await producer?.close();
  receiver?.closeAllConnections();
  await new Promise((r) => (receiver ? receiver.close(r) : r(undefined)));
  await dropSchema(schema);
  await dropSchema(availabilitySchema);
  await cleanupIsolated(s);
}, 120_000);

describe('registration', () => {
  it('refuses without a token (401), with the wrong scope (403), and a bad registration naming the field (400)', async () => {
    expect((await call('PUT', '/services/crm', {}, { delivery: { mode: 'pull' } })).status).toBe(401);
    expect((await call('PUT', '/services/crm', bearer(crm), { delivery: { mode: 'pull' } })).status).toBe(403);
    const noUrl = await call('PUT', '/services/crm', bearer(admin), {
      subscriptions: [{ types: ['call.missed'] }],
      delivery: { mode: 'webhook', secret: SECRET },
    });
    expect(noUrl).toMatchObject({ status: 400, json: { field: 'delivery.url' } });
    const badType = await call('PUT', '/services/crm', bearer(admin), { subscriptions: [{ types: ['call.lost'] }], delivery: { mode: 'pull' } });
    expect(badType).toMatchObject({ status: 400, json: { field: 'subscriptions[0].types[0]' } });
    const badSubscriber = await call('PUT', '/services/crm', bearer(admin), {
      subscriptions: [{ types: ['*'], subscribers: ['not a number'] }],
      delivery: { mode: 'pull' },
    });
    expect(badSubscriber).toMatchObject({ status: 400, json: { field: 'subscriptions[0].subscribers[0]' } });
    expect((await call('GET', '/services', bearer(admin))).json).toEqual({ services: [] });
  });

  it('registers a webhook CRM, a pulling voicemail, an SSE softphone and a publishing billing service', async () => {
    const hook = await call('PUT', '/services/crm', bearer(admin), {
      subscriptions: [
        { types: ['call.offered', 'call.missed', 'call.answered'], subscribers: ['+9997000000171'] },
        { types: ['usage.gauge'], where: { gauge: 'voice-minutes' } },
      ],
      delivery: { mode: 'webhook', url: `http://127.0.0.1:${receiverPort}/events`, secret: SECRET },
    });
    expect(hook.status).toBe(201);
    expect(hook.json.delivery).toEqual({ mode: 'webhook', url: `http://127.0.0.1:${receiverPort}/events` });
    expect(JSON.stringify(hook.json)).not.toContain(SECRET);
    expect(
      (await call('PUT', '/services/voicemail', bearer(admin), { subscriptions: [{ types: ['usage.gauge'], subscribers: [A] }], delivery: { mode: 'pull' } }))
        .status,
    ).toBe(201);
    expect((await call('PUT', '/services/softphone', bearer(admin), { subscriptions: [{ types: ['usage.gauge'] }], delivery: { mode: 'sse' } })).status).toBe(
      201,
    );
    expect((await call('PUT', '/services/billing', bearer(admin), { publishes: ['usage.gauge'], delivery: { mode: 'pull' } })).status).toBe(201);
    // Publishing: a type the service did not register is refused, a bad payload names its field.
    expect((await call('POST', '/events', bearer(billing), { ...gauge(1), type: 'message.waiting' })).status).toBe(403);
    expect(await call('POST', '/events', bearer(billing), { ...gauge(1), payload: { gauge: 'voice-minutes', used: 'lots', unit: 'min' } })).toMatchObject({
      status: 400,
      json: { field: 'payload.used' },
    });
    expect((await call('POST', '/events', bearer(crm), gauge(1))).status).toBe(403);
  });
});

describe('push, pull, SSE and the event log', () => {
  it('a missed call and three gauges reach a webhook that was down: everything, in order, once per event id, signed', async () => {
    const t0 = Date.now();
    const iam = isupEvent(A, 'IAM', t0, { role: 'called', calling: '+9997000000172', called: '+9997000000171', cic: 41 });
    const rel = isupEvent(A, 'REL', t0 + 5000, { role: 'called', calling: '+9997000000172', called: '+9997000000171', cic: 41, cause: 19 });
    for (const e of [iam, rel]) await producer.send(topicName(s.topics.prefix, 'signaling-events'), A, serde.encode('signaling-events', e), e.time);

    // The receiver is down: the CRM's deliveries are attempted, refused, recorded and retried.
    await eventually(
      'the missed call logged with a failed attempt to the CRM',
      async () => {
        const log = (await call('GET', `/event-log?subscriber=${encodeURIComponent(A)}&type=call.missed`, bearer(crm))).json.events as Array<{
          recipients: Array<{ service: string; attempts: number; notified: boolean; answer: { body: string } | null }>;
        }>;
        const r = log[0]?.recipients.find((x) => x.service === 'crm');
        return r !== undefined || undefined;
      },
      { timeoutMs: 30_000 },
    );
    // Then the gauges, so the subscriber's queue holds the call first.
    for (const used of [10, 20, 30]) expect((await call('POST', '/events', bearer(billing), gauge(used))).status).toBe(202);
    // A retried publish with the same id is the same event.
    expect((await call('POST', '/events', bearer(billing), gauge(30))).status).toBe(202);
    let seen = '';
    await eventually(
      () => `a refused attempt recorded (log: ${seen})`,
      async () => {
        const log = (await call('GET', `/event-log?subscriber=${encodeURIComponent(A)}&service=crm`, bearer(crm))).json.events as Array<{
          type: string;
          recipients: Array<{ service: string; attempts: number; notified: boolean; answer: { status: number | null; body: string } | null }>;
        }>;
        seen = JSON.stringify(log).slice(0, 1500);
        const first = log.find((e) => e.type === 'call.offered')?.recipients.find((x) => x.service === 'crm');
        return (first && first.attempts >= 2 && !first.notified && first.answer?.status === null && /no answer/.test(first.answer.body)) || undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(received).toEqual([]);

    // A second instance on the same database: its webhook sender waits for the first's lock, so nothing is sent twice.
    const twin = await startEventService(s, serviceOptions);
    await startReceiver();
    // Notices about types (subject: the type) queue apart from the subscriber's events.
    const aboutA = () => received.filter((r) => r.body.subject === A);
    await eventually('all five events at the receiver', () => aboutA().length >= 5 || undefined, { timeoutMs: 30_000 });
    await sleep(1500); // nothing more may come
    expect(aboutA().map((r) => r.type)).toEqual(['call.offered', 'call.missed', 'usage.gauge', 'usage.gauge', 'usage.gauge']);
    expect(new Set(received.map((r) => r.id)).size).toBe(received.length);
    expect(received.every((r) => r.signatureOk && r.id === r.body.eventId)).toBe(true);
    expect(aboutA()[1]!.body).toMatchObject({ subject: A, payload: { caller: '+9997000000172', callee: '+9997000000171', cause: 19, protocol: 'isup' } });
    expect(
      aboutA()
        .slice(2)
        .map((r) => r.body.payload.used),
    ).toEqual([10, 20, 30]);
    expect(twin.webhooks.stats.delivered + twin.webhooks.stats.failed).toBe(0);
    await twin.stop();

    // The log: the CRM notified of each, after several attempts, with its answer.
    const log = (await call('GET', `/event-log?service=crm&subscriber=${encodeURIComponent(A)}`, bearer(crm))).json.events as Array<{
      type: string;
      recipients: Array<{ service: string; notified: boolean; notifiedAt: string | null; attempts: number; answer: { status: number; body: string } }>;
    }>;
    expect(log).toHaveLength(5);
    for (const e of log) {
      const r = e.recipients.find((x) => x.service === 'crm')!;
      expect(r).toMatchObject({ notified: true, answer: { status: 200, body: 'thanks' } });
      expect(r.notifiedAt).not.toBeNull();
    }
    expect(log.find((e) => e.type === 'call.offered')!.recipients[0]!.attempts).toBeGreaterThan(1);
  }, 90_000);

  it('pull: pages with the server-kept cursor, across a restart of the service; the log shows who acknowledged', async () => {
    type Page = { next: number; more: boolean; events: Array<{ cursor: number; type: string; payload: { used?: number } }> };
    const gauges = (p: Page) => p.events.filter((e) => e.type === 'usage.gauge').map((e) => e.payload.used);
    const first = await call('GET', '/events?limit=2', bearer(puller));
    expect(first.status).toBe(200);
    const page1 = first.json as Page;
    expect(page1.events).toHaveLength(2);
    expect(page1.more).toBe(true);

    await svc.stop();
    await start();

    // Acknowledging page 1 by asking after it.
    const page2 = (await call('GET', `/events?since=${page1.next}&limit=100`, bearer(puller))).json as Page;
    expect(page2.more).toBe(false);
    expect([...gauges(page1), ...gauges(page2)]).toEqual([10, 20, 30]);
    // Without since: from the kept cursor (page 1 acknowledged, page 2 not yet).
    const again = (await call('GET', '/events?limit=100', bearer(puller))).json as Page;
    expect(again.events.map((e) => e.cursor)).toEqual(page2.events.map((e) => e.cursor));
    await svc.stop();
    await start();
    expect(((await call('GET', `/events?since=${page2.next}`, bearer(puller))).json as Page).events).toEqual([]);
    expect(((await call('GET', '/events', bearer(puller))).json as Page).events).toEqual([]);

    const log = (await call('GET', `/event-log?service=voicemail`, bearer(crm))).json.events as Array<{
      cursor: number;
      recipients: Array<{ service: string; notified: boolean; attempts: number }>;
    }>;
    const handedTwice = new Set(page2.events.map((e) => e.cursor));
    for (const e of log) {
      const r = e.recipients.find((x) => x.service === 'voicemail')!;
      expect(r.notified).toBe(true);
      expect(r.attempts).toBe(handedTwice.has(e.cursor) ? 2 : 1);
    }
    // A pull-mode service cannot open a stream, and an sse one cannot pull.
    expect((await call('GET', '/events/stream', bearer(puller))).status).toBe(409);
    expect((await call('GET', '/events', bearer(softphone))).status).toBe(409);
  }, 90_000);

  it('SSE: the softphone gets the gauges as a stream and resumes after Last-Event-ID', async () => {
    const one = await SseClient.open(`${url}/events/stream`, bearer(softphone));
    expect(one.status).toBe(200);
    expect(one.contentType).toBe('text/event-stream');
    await one.next<{ payload: { used: number } }>('usage.gauge', (d) => d.payload.used === 30);
    const used = (c: SseClient) => c.events.filter((e) => e.event === 'usage.gauge').map((e) => (e.data as { payload: { used: number } }).payload.used);
    expect(used(one)).toEqual([10, 20, 30]);
    const firstId = one.events.find((e) => e.event === 'usage.gauge')!.id!;
    one.close();
    const two = await SseClient.open(`${url}/events/stream`, { ...bearer(softphone), 'last-event-id': firstId });
    await two.next<{ payload: { used: number } }>('usage.gauge', (d) => d.payload.used === 30);
    expect(used(two)).toEqual([20, 30]);
    // A new gauge arrives live on the open stream.
    expect((await call('POST', '/events', bearer(billing), gauge(40))).status).toBe(202);
    await two.next<{ payload: { used: number } }>('usage.gauge', (d) => d.payload.used === 40, 20_000);
    two.close();
  }, 60_000);

  it('the deriver restarted between IAM and REL still sees a missed call (its open calls restored from the changelog)', async () => {
    const t0 = Date.now();
    const party = { role: 'called' as const, calling: '+9997000000173', called: '+9997000000171', cic: 42 };
    const send = async (e: ReturnType<typeof isupEvent>) =>
      producer.send(topicName(s.topics.prefix, 'signaling-events'), A, serde.encode('signaling-events', e), e.time);
    const missedFrom173 = async () =>
      (
        (await call('GET', `/event-log?subscriber=${encodeURIComponent(A)}&type=call.missed`, bearer(crm))).json.events as Array<{
          payload: { caller: string };
        }>
      ).filter((e) => e.payload.caller === '+9997000000173');
    await send(isupEvent(A, 'IAM', t0, party));
    await eventually(
      'the call offered',
      async () =>
        (
          (await call('GET', `/event-log?subscriber=${encodeURIComponent(A)}&type=call.offered`, bearer(crm))).json.events as Array<{
            payload: { caller: string };
          }>
        ).some((e) => e.payload.caller === '+9997000000173') || undefined,
      { timeoutMs: 20_000 },
    );
    await deriver.stop();
    deriver = await startEventDeriver(s, { memberId: 'it-1', fetchWaitMs: 50 });
    await send(isupEvent(A, 'REL', t0 + 3000, { ...party, cause: 17 }));
    const missed = await eventually('the missed call after the restart', async () => ((await missedFrom173()).length > 0 ? missedFrom173() : undefined), {
      timeoutMs: 30_000,
    });
    expect(missed).toHaveLength(1);
    expect(missed[0]!.payload).toMatchObject({ cause: 17 });
  }, 90_000);

  it('tells the subscribers of a type when its last publisher goes, and when one is back', async () => {
    const notices = () => received.filter((r) => r.type.startsWith('event-type.') && r.body.subject === 'usage.gauge');
    const before = notices().length;
    expect((await call('DELETE', '/services/billing', bearer(admin))).status).toBe(204);
    await eventually('the unavailable notice at the CRM', () => notices().length > before || undefined, { timeoutMs: 20_000 });
    expect(notices()[before]!.body).toMatchObject({ type: 'event-type.unavailable', payload: { eventType: 'usage.gauge', available: false } });
    expect((await call('PUT', '/services/billing', bearer(admin), { publishes: ['usage.gauge'], delivery: { mode: 'pull' } })).status).toBe(201);
    await eventually('the available notice at the CRM', () => notices().length > before + 1 || undefined, { timeoutMs: 20_000 });
    expect(notices()[before + 1]!.body).toMatchObject({ type: 'event-type.available', payload: { eventType: 'usage.gauge', available: true } });
    await sleep(1000);
    expect(notices()).toHaveLength(before + 2); // announced once each
  }, 60_000);

  it('long poll: wait= holds an empty pull until an event is logged for the service, or until the time is up; bounded', async () => {
    type Page = { next: number; events: Array<{ type: string; payload: { used?: number } }> };
    expect(await call('GET', '/events?wait=31', bearer(puller))).toMatchObject({ status: 400, json: { field: 'wait' } });
    // Up to date first (the SSE test's gauge and the notices are waiting).
    const drained = (await call('GET', '/events?limit=1000', bearer(puller))).json as Page;
    // Nothing comes: an empty page after the wait, not before.
    let t = Date.now();
    const quiet = await call('GET', `/events?since=${drained.next}&wait=1`, bearer(puller));
    expect(Date.now() - t).toBeGreaterThanOrEqual(950);
    expect(quiet).toMatchObject({ status: 200, json: { events: [], next: drained.next, more: false } });
    // A gauge published while the poll waits answers it at once.
    t = Date.now();
    const polled = call('GET', `/events?since=${drained.next}&wait=20`, bearer(puller));
    await sleep(1500);
    expect((await call('POST', '/events', bearer(billing), gauge(50))).status).toBe(202);
    const answer = await polled;
    const took = Date.now() - t;
    expect(answer.status).toBe(200);
    expect((answer.json as Page).events.map((e) => e.payload.used)).toContain(50);
    expect(took).toBeGreaterThanOrEqual(1500);
    expect(took).toBeLessThan(10_000);
    console.log(`long poll answered ${took - 1500} ms after the publish`);
  }, 60_000);
});

describe('subscribing by a contact list (seed 004: per subscriber, per contact list)', () => {
  it("gets the events of the subscribers on the owner's watched list as the list is when each is logged", async () => {
    const OWNER = '+9997000000175';
    const [friend, stranger] = ['+9997000000176', '+9997000000177'];
    const profiles = new AvailabilityStore(testDatabaseUrl, availabilitySchema);
    const watching = (watched: string[]) => ({
      ...PROFESSIONAL,
      profiles: PROFESSIONAL.profiles.map((p) => ({ ...p, lists: { ...p.lists, watched } })),
    });
    try {
      await profiles.setProfiles(`msisdn:${OWNER}`, watching([`tel:${friend}`]));
      expect(
        (
          await call('PUT', '/services/buddy', bearer(admin), {
            subscriptions: [{ types: ['usage.gauge'], contactList: { owner: OWNER, list: 'watched' } }],
            delivery: { mode: 'pull' },
          })
        ).json,
      ).toMatchObject({ subscriptions: [{ contactList: { owner: `msisdn:${OWNER}`, list: 'watched' } }] });
      expect(
        (
          await call('PUT', '/services/nobody', bearer(admin), {
            subscriptions: [{ types: ['*'], contactList: { owner: OWNER, list: 'buddies' } }],
            delivery: { mode: 'pull' },
          })
        ).json,
      ).toMatchObject({ field: 'subscriptions[0].contactList.list' });
      const publish = async (subject: string, used: number) =>
        expect(
          (
            await call('POST', '/events', bearer(billing), {
              type: 'usage.gauge',
              subject,
              eventId: `list-${subject}-${used}`,
              payload: { gauge: 'data-mb', used, unit: 'MB' },
            })
          ).status,
        ).toBe(202);
      await publish(friend, 1);
      await publish(stranger, 2);
      type Page = { events: Array<{ subject: string; payload: { used: number } }> };
      const pulled = async () => ((await call('GET', '/events?limit=100', bearer(buddy))).json as Page).events.map((e) => [e.subject, e.payload.used]);
      await eventually("the friend's gauge pulled", async () => ((await pulled()).length >= 1 ? true : undefined), { timeoutMs: 30_000, intervalMs: 200 });
      // The stranger's, published after the friend's, is logged too: give it time to have been matched.
      await eventually(
        'both gauges logged',
        async () => {
          const log = (await call('GET', '/event-log?type=usage.gauge&limit=100', bearer(crm))).json.events as Array<{ subject: string }>;
          return log.some((e) => e.subject === `msisdn:${stranger}`) || undefined;
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      expect(await pulled()).toEqual([[`msisdn:${friend}`, 1]]);

      // The owner now watches the stranger instead: later events follow the list (its profiles are cached up to 5 s).
      await profiles.setProfiles(`msisdn:${OWNER}`, watching([`sip:${stranger}@ims.example.net;user=phone`]));
      await sleep(5500);
      await publish(friend, 3);
      await publish(stranger, 4);
      await eventually("the stranger's second gauge pulled", async () => ((await pulled()).some(([, used]) => used === 4) ? true : undefined), {
        timeoutMs: 30_000,
        intervalMs: 200,
      });
      expect(await pulled()).toEqual([
        [`msisdn:${friend}`, 1],
        [`msisdn:${stranger}`, 4],
      ]);
    } finally {
      await profiles.close();
    }
  }, 90_000);
});
