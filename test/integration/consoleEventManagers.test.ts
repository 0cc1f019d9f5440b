// The console watching real event managers (in this process, on a test
// prefix): their own MemberReports make the group view, a member joining is
// seen as partitions moving to it and a clean stop as them coming back, and a
// presence change the event manager derives from signaling reaches the page's
// subscriber stream and the flow counters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { RecordSerde } from '../../schemas/serde.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { startConsole, type Console } from '../../services/console/consoleServer.ts';
import type { GroupSnapshot, PartitionMove } from '../../services/console/groupView.ts';
import type { FlowSnapshot } from '../../services/console/flowMeter.ts';
import type { Presence } from '../../schemas/generated/records.ts';
import { EVENT_MANAGER_GROUP, EVENT_MANAGER_INPUTS, startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { mapEvent } from '../support/signalingEvents.ts';
import { SseClient } from '../support/sseClient.ts';
import { eventually } from '../support/wait.ts';

const base = isolatedSettings('console-em', 4);
const s = { ...base, database: { ...base.database, url: testDatabaseUrl } };
const rulesSchema = `it_console_em_${process.pid}`;
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const producer = new RecordProducer(s.kafka.brokers, 'it-console-em');
const members: EventManager[] = [];
let app: Console | undefined;
let url = '';
const streams: SseClient[] = [];

const startMember = async (memberId: string) => {
  const em = await startEventManager(s, { memberId, rulesSchema, membership: { reportIntervalMs: 1000 } });
  members.push(em);
  return em;
};

beforeAll(async () => {
  await applyIsolated(s);
  await serde.loadIds();
  await producer.connect();
  app = await startConsole(s, {
    port: 0,
    host: '127.0.0.1',
    lag: { groupId: `${s.topics.prefix}${EVENT_MANAGER_GROUP}`, topics: EVENT_MANAGER_INPUTS, intervalMs: 1000 },
  });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  await eventually('the console reading Kafka', async () => (await fetch(`${url}/api/healthz`)).status === 200, { timeoutMs: 60_000 });
});

afterAll(async () => {
  for (const c of streams) c.close();
  for (const em of members) await em.stop().catch(() => {});
  await app?.stop();
  await producer.close();
  await cleanupIsolated(s);
  await dropSchema(rulesSchema);
});

describe('the console with real event managers', () => {
  it('shows the members, a member joining and leaving as partition moves, and a derived presence change live', async () => {
    const stream = await SseClient.open(`${url}/api/stream`);
    streams.push(stream);
    await startMember('console-em-1');
    const alone = await stream.next<GroupSnapshot>('members', (g) => g.owners.every((o) => o === 'console-em-1'), 60_000);
    expect(alone.members).toEqual([expect.objectContaining({ memberId: 'console-em-1', partitions: [0, 1, 2, 3], state: 'live', pid: process.pid })]);

    // A subscriber's location update, derived by the event manager into a presence change.
    const key = 'msisdn:+351910000321';
    const follow = await SseClient.open(`${url}/api/subscribers/${encodeURIComponent(key)}/stream`);
    streams.push(follow);
    await follow.next('following');
    const T = Date.now();
    for (const e of [
      mapEvent(key, 'updateLocation', 'invoke', T, { vlrNumber: '351910999001', mscNumber: '351910999001', opc: 100, dpc: 200 }),
      mapEvent(key, 'updateLocation', 'result', T + 100, { opc: 200, dpc: 100 }),
    ])
      await producer.send(topicName(s.topics.prefix, 'signaling-events'), key, serde.encode('signaling-events', e));
    expect(await follow.next<Presence>('presence', (p) => p.networkState === 'attached', 60_000)).toMatchObject({ subscriber: key, basic: 'open' });
    await follow.next('signaling', (e: { message: string }) => e.message === 'updateLocation');
    await stream.next<FlowSnapshot>('flow', (f) => f.totals.signalingEvents >= 2 && f.totals.presenceChanges >= 1);

    // A second member joins: partitions move to it (directly, or through "in transit").
    await startMember('console-em-2');
    await stream.next<{ moves: PartitionMove[] }>('moves', (m) => m.moves.some((x) => x.to === 'console-em-2'), 90_000);
    const shared = await stream.next<GroupSnapshot>(
      'members',
      (g) => g.owners.every((o) => o !== null) && new Set(g.owners).size === 2 && g.members.every((m) => m.partitions.length === 2),
      90_000,
    );
    expect(shared.members.map((m) => m.memberId)).toEqual(['console-em-1', 'console-em-2']);

    // It stops cleanly: its final report gives its partitions up, and they come back to the first.
    const second = members.pop()!;
    await second.stop();
    await stream.next<{ moves: PartitionMove[] }>('moves', (m) => m.moves.some((x) => x.from === 'console-em-2'), 30_000);
    const back = await stream.next<GroupSnapshot>('members', (g) => g.owners.every((o) => o === 'console-em-1'), 90_000);
    expect(back.members.map((m) => m.memberId)).toEqual(['console-em-1']); // the tombstone removed it
  });
});
