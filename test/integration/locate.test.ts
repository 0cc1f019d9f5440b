// `presence locate` on the real stack: identity → key, the partition Kafka
// actually put the subscriber's records on, the event manager that owns it
// (from its MemberReports, on the default KIP-848 group protocol), and its
// current presence.
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordSerde } from '../../schemas/serde.ts';
import type { AddressInfo } from 'node:net';
import { locate } from '../../coordinator/locator.ts';
import { MemberReportsView } from '../../coordinator/memberReportsReader.ts';
import type { MemberReport } from '../../schemas/generated/records.ts';
import { startHttpApi } from '../../coordinator/httpApi.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { mapEvent } from '../support/signalingEvents.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { readTopic } from '../support/topicReader.ts';
import { sleep } from '../support/wait.ts';

const base = isolatedSettings('locate', 6);
const dbUrl = testDatabaseUrl;
const s = { ...base, database: { ...base.database, url: dbUrl } };
const rulesSchema = `it_locate_${process.pid}`;
let em: EventManager | undefined;

beforeAll(async () => {
  await applyIsolated(s);
  // The default protocol (KIP-848): the owner comes from the member's reports, not from DescribeGroups.
  em = await startEventManager(s, { memberId: 'locator-test', rulesSchema, membership: { sipContact: 'sip:127.0.0.1:5999', reportIntervalMs: 1000 } });
});

afterAll(async () => {
  await em?.stop();
  await cleanupIsolated(s);
  await dropSchema(rulesSchema);
});

describe('locate', () => {
  it('finds key, partition, owning event manager and presence of a subscriber', async () => {
    const serde = new RecordSerde(s.registry.url, s.topics.prefix);
    await serde.loadIds();
    const key = 'msisdn:+351910000077';
    const p = new RecordProducer(s.kafka.brokers, 'it-locate');
    await p.connect();
    const T = Date.UTC(2026, 0, 1);
    for (const e of [
      mapEvent(key, 'updateLocation', 'invoke', T, { vlrNumber: '351910999001', mscNumber: '351910999001', opc: 100, dpc: 200 }),
      mapEvent(key, 'updateLocation', 'result', T + 100, { opc: 200, dpc: 100 }),
    ])
      await p.send(topicName(s.topics.prefix, 'signaling-events'), key, serde.encode('signaling-events', e));
    await p.close();
    const records = await readTopic({
      brokers: s.kafka.brokers,
      topic: topicName(s.topics.prefix, 'current-presence'),
      partitions: 6,
      count: 2,
      timeoutMs: 60_000,
      settleMs: 500,
    });

    const loc = await locate(s, 'tel:+351910000077');
    expect(loc.key).toBe(key);
    expect(loc.partition).toBe(records[0]!.partition);
    expect(em!.processor.assignments().length).toBeGreaterThan(0);
    expect(loc.owner).toMatchObject({ memberId: 'locator-test', pid: process.pid, sipContact: em!.membership.sipContact, httpUrl: null });
    expect(loc.owner!.sipContact).toMatch(/^sip:127\.0\.0\.1:\d+$/);
    expect(loc.owner!.reportAgeMs).toBeLessThan(3000);

    // Its reports carry the load the load-aware assignor reads: one subscriber on that partition now.
    let report: MemberReport | undefined;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(500)) {
      report = (await MemberReportsView.open(s)).table.members().find((m) => m.memberId === 'locator-test');
      if (report?.partitionLoad.find((l) => l.partition === loc.partition)?.subscribers === 1) break;
    }
    expect(report!.partitionLoad.find((l) => l.partition === loc.partition)).toMatchObject({ subscribers: 1 });
    expect(report!.partitions).toEqual(report!.partitionLoad.map((l) => l.partition));
    expect(report!.utilization).toBeGreaterThanOrEqual(0);
    expect(report!.utilization).toBeLessThanOrEqual(1);
    expect(loc.presence).toMatchObject({ subscriber: key, networkState: 'attached', basic: 'open' });
    await expect(locate(s, 'not-a-number')).rejects.toThrow(/is not an MSISDN/);

    // The same through the coordinator's HTTP API, with proper statuses.
    const server = await startHttpApi(s, 0);
    try {
      const { port } = server.address() as AddressInfo;
      const ok = await fetch(`http://127.0.0.1:${port}/locate/${encodeURIComponent('+351910000077')}`);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ key, partition: loc.partition, owner: { memberId: 'locator-test', sipContact: em!.membership.sipContact } });
      expect((await fetch(`http://127.0.0.1:${port}/locate/zzz`)).status).toBe(400);
      expect((await fetch(`http://127.0.0.1:${port}/elsewhere`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`, { method: 'POST' })).status).toBe(405);
    } finally {
      await new Promise((r) => server.close(r));
    }
    // Kafka unreachable: 503 with the reason, not a 500 or a hang.
    const down = await startHttpApi({ ...s, kafka: { ...s.kafka, brokers: '127.0.0.1:1' } }, 0);
    try {
      const { port } = down.address() as AddressInfo;
      const r = await fetch(`http://127.0.0.1:${port}/locate/${encodeURIComponent('+351910000077')}`);
      expect(r.status).toBe(503);
      expect(((await r.json()) as { error: string }).error).toMatch(/127\.0\.0\.1:1/);
    } finally {
      await new Promise((r) => down.close(r));
    }

    // A clean stop says so (leaving=true, then a tombstone): locate names no owner at once.
    const stopping = em!;
    em = undefined;
    await stopping.stop();
    expect((await locate(s, 'tel:+351910000077')).owner).toBeNull();
    const after = await MemberReportsView.open(s);
    expect(after.table.members().map((m) => m.memberId)).not.toContain('locator-test'); // the tombstone
  });
});
