// A deleted subscriber's own watchers are told, on the real broker, registry and
// database: a directory-changes tombstone (Debezium's record of a deleted
// directory row) ends every dialog on the subscriber with NOTIFY
// terminated;reason=noresource (RFC 6665 §4.2.2), tombstones its
// current-presence and drops its state, so a later change of it notifies nobody.
// Directory rows that are not tombstones (the CDC snapshot) change nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotifyRequest, Subscription } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { mapEvent } from '../support/signalingEvents.ts';
import { readTopic } from '../support/topicReader.ts';
import { eventually, sleep } from '../support/wait.ts';

const base = isolatedSettings('sub-deletion-watchers', 3);
const s = { ...base, database: { ...base.database, url: testDatabaseUrl } };
const rulesSchema = `it_subdel_rules_${process.pid}`;
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const topic = (n: Parameters<typeof topicName>[1]) => topicName(s.topics.prefix, n as never);
const A = 'msisdn:+351930000001';
const B = 'msisdn:+351930000002'; // kept: its directory row is only re-read
const T = Date.UTC(2026, 0, 1, 8);
let producer: RecordProducer;
let em: EventManager | undefined;

const subscribe = (presentity: string, n: number, event = 'presence'): Subscription => ({
  contactVerified: true,
  dialogFilter: null,
  requestId: `subdel-${n}`,
  receivedAt: T + n,
  presentity,
  presentityUri: `sip:${presentity.slice(7)}@ims.example.net`,
  watcherUri: 'sip:watcher@example.com',
  event,
  expires: 3600,
  callId: `subdel-dialog-${n}`,
  watcherTag: `wt${n}`,
  cseq: 1,
  contact: 'sip:watcher@127.0.0.1:5070',
  routeSet: [],
  accept: event === 'presence' ? ['application/pidf+xml'] : ['application/dialog-info+xml'],
  supported: [],
  body: null,
  frontEnd: 'fe-test',
  localTag: `fe-subdel-${n}`,
});

const attach = (sub: string, t: number, id: string) => [
  mapEvent(sub, 'updateLocation', 'invoke', t, { vlrNumber: '351910999001', mscNumber: '351910999001', opc: 100, dpc: 200 }, { eventId: `${id}-a` }),
  mapEvent(sub, 'updateLocation', 'result', t + 100, { hlrNumber: '351910999900', opc: 200, dpc: 100 }, { eventId: `${id}-b` }),
];

async function notifies(count: number, settleMs = 1500): Promise<NotifyRequest[]> {
  const got = await readTopic({ brokers: s.kafka.brokers, topic: topic('notify-requests'), partitions: 3, count, timeoutMs: 60_000, settleMs });
  return Promise.all(got.map((r) => serde.decode('notify-requests', r.value!)));
}

const directoryRow = (key: string) =>
  serde.encode('directory-changes', {
    id: 1,
    key,
    msisdn: key.slice(7),
    imsi: null,
    aor: null,
    origin: 'provisioned',
    updated_at: '2026-01-01T08:00:00Z',
    __op: 'r',
  });

beforeAll(async () => {
  await applyIsolated(s);
  await serde.loadIds();
  producer = new RecordProducer(s.kafka.brokers, 'it-subdel', 15_000);
  await producer.connect();
  em = await startEventManager(s, { memberId: 'em-subdel', rulesSchema });
});

afterAll(async () => {
  await em?.stop();
  await producer?.close();
  await cleanupIsolated(s);
  await dropSchema(rulesSchema);
});

describe("a deleted subscriber's watchers", () => {
  it('get terminated;reason=noresource, its presence is tombstoned and nobody hears of it again', { timeout: 180_000 }, async () => {
    for (const e of attach(A, T, 'a1')) await producer.send(topic('signaling-events'), A, serde.encode('signaling-events', e));
    await producer.send(topic('subscriptions'), A, serde.encode('subscriptions', subscribe(A, 1)));
    await producer.send(topic('subscriptions'), A, serde.encode('subscriptions', subscribe(A, 2, 'dialog')));
    await producer.send(topic('subscriptions'), B, serde.encode('subscriptions', subscribe(B, 3)));
    await eventually(
      () => 'the three dialogs active',
      async () => ((await notifies(3, 500)).filter((n) => n.subscriptionState === 'active').length >= 3 ? true : undefined),
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const before = (await notifies(3)).length;

    // The CDC snapshot re-reads B's row (not a deletion); A's row is deleted.
    await producer.send(topic('directory-changes'), B, directoryRow(B));
    await producer.send(topic('directory-changes'), A, directoryRow(A));
    await producer.send(topic('directory-changes'), A, null);
    const ns = await notifies(before + 2);
    // Partitions are read one after the other: pick the dialogs' NOTIFYs, not the last ones read.
    const ended = ns.filter((n) => n.subscriptionState === 'terminated');
    expect(ended.map((n) => [n.callId, n.presentity, n.reason, n.body]).sort()).toEqual([
      ['subdel-dialog-1', A, 'noresource', null],
      ['subdel-dialog-2', A, 'noresource', null],
    ]);
    for (const n of ended) {
      const earlier = ns.filter((x) => x.callId === n.callId && x !== n).map((x) => x.version);
      expect(n.version).toBe(Math.max(...earlier) + 1); // the dialog's next version
    }
    const presence = await readTopic({
      brokers: s.kafka.brokers,
      topic: topic('current-presence'),
      partitions: 3,
      count: 0,
      timeoutMs: 10_000,
      settleMs: 1000,
    });
    const ofA = presence.filter((r) => r.key?.toString() === A);
    expect(ofA.length).toBeGreaterThan(1);
    expect(ofA.at(-1)!.value).toBeNull();

    // A's next event starts a fresh subscriber with no watchers: no NOTIFY; B's dialog is untouched.
    for (const e of attach(A, T + 60_000, 'a2')) await producer.send(topic('signaling-events'), A, serde.encode('signaling-events', e));
    await sleep(3000);
    const after = await notifies(before + 2, 2000);
    expect(after.length).toBe(before + 2);
    expect(after.filter((n) => n.presentity === A).at(-1)).toMatchObject({ subscriptionState: 'terminated' });
    expect(after.filter((n) => n.presentity === B).map((n) => n.subscriptionState)).toEqual(['active']);
    expect(em!.stats.deadLetters).toBe(0);
  });
});
