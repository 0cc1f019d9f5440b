// The event manager on the real broker, registry and database: a watcher's
// SUBSCRIBE and a subscriber's signaling become NOTIFY requests in dialog
// order (versions contiguous, CSeqs increasing, nothing twice) and
// current-presence records — exactly once across an aborted transaction —
// and the dialog survives a handover to another member, restored from the
// changelog.
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotifyRequest, SignalingEvent, Subscription } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { EVENT_MANAGER_INPUTS, startEventManager } from '../../streams/event-manager/eventManager.ts';
import { AvailabilityStore } from '../../subscriber/availability/availabilityStore.ts';
import { mapEvent } from '../support/signalingEvents.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { readTopic } from '../support/topicReader.ts';
import { sleep } from '../support/wait.ts';

const base = isolatedSettings('event-manager', 4);
const dbUrl = testDatabaseUrl;
const s = { ...base, database: { ...base.database, url: dbUrl } };
const rulesSchema = `it_em_rules_${process.pid}`;
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
let producer: RecordProducer;

const A = 'msisdn:+351910000001';
const T = Date.UTC(2026, 0, 1, 8);
const topic = (n: Parameters<typeof topicName>[1]) => topicName(s.topics.prefix, n as never);

function subscribe(cseq: number, expires: number, over: Partial<Subscription> = {}): Subscription {
  return {
    contactVerified: true,
    dialogFilter: null,
    requestId: `sub-${cseq}`,
    receivedAt: T + cseq,
    presentity: A,
    presentityUri: 'sip:+351910000001@ims.example.net',
    watcherUri: 'sip:watcher@example.com',
    event: 'presence',
    expires,
    callId: 'dialog-1',
    watcherTag: 'wtag',
    cseq,
    contact: 'sip:watcher@127.0.0.1:5070',
    routeSet: [],
    accept: ['application/pidf+xml'],
    supported: [],
    body: null,
    frontEnd: 'fe-test',
    localTag: 'fe-tag-1',
    ...over,
  };
}

const signaling: SignalingEvent[] = [
  mapEvent(A, 'updateLocation', 'invoke', T + 1000, { vlrNumber: '351910999001', mscNumber: '351910999001', opc: 100, dpc: 200 }, { eventId: 'e1' }),
  mapEvent(A, 'updateLocation', 'result', T + 1100, { hlrNumber: '351910999900', opc: 200, dpc: 100 }, { eventId: 'e2' }),
  mapEvent(A, 'purgeMS', 'invoke', T + 60_000, { vlrNumber: '351910999001', opc: 100, dpc: 200 }, { eventId: 'e3' }),
];

async function notifies(count: number): Promise<NotifyRequest[]> {
  const got = await readTopic({ brokers: s.kafka.brokers, topic: topic('notify-requests'), partitions: 4, count, timeoutMs: 60_000, settleMs: 2000 });
  return Promise.all(got.map((m) => serde.decode('notify-requests', m.value!)));
}

beforeAll(async () => {
  await applyIsolated(s);
  await serde.loadIds();
  producer = new RecordProducer(s.kafka.brokers, 'it-em', 15_000);
  await producer.connect();
});

afterAll(async () => {
  await producer?.close();
  await cleanupIsolated(s);
  await dropSchema(rulesSchema);
});

describe('event manager', () => {
  it('notifies a watcher of derived presence in dialog order, exactly once, and hands the dialog over with its state', async () => {
    await producer.send(topic('subscriptions'), A, serde.encode('subscriptions', subscribe(1, 3600)));
    let failOnce = true;
    const em1 = await startEventManager(s, {
      memberId: 'em-1',
      rulesSchema,
      beforeBatch: (batch) => {
        if (failOnce && batch.some((r) => r.topic.endsWith('signaling-events'))) {
          failOnce = false;
          throw new Error('injected failure inside the transaction');
        }
      },
    });
    try {
      // The immediate NOTIFY of the new subscription.
      let n = await notifies(1);
      expect(n[0]).toMatchObject({
        subscriptionState: 'active',
        version: 1,
        cseq: 1,
        localTag: 'fe-tag-1',
        remoteTag: 'wtag',
        requestUri: 'sip:watcher@127.0.0.1:5070',
      });

      for (const e of signaling) await producer.send(topic('signaling-events'), A, serde.encode('signaling-events', e));
      n = await notifies(4);
      expect(em1.processor.stats.aborts).toBeGreaterThanOrEqual(1);
      // Attaching, attached (open), purged (closed): one NOTIFY per change of the document, none twice.
      expect(n.map((x) => x.causeEventId)).toEqual(['sub-1', 'e1', 'e2', 'e3']);
      expect(n.map((x) => x.version)).toEqual([1, 2, 3, 4]);
      expect(n.map((x) => x.cseq)).toEqual([1, 2, 3, 4]);
      expect(n[1]!.body).not.toContain('<basic>open</basic>');
      expect(n[2]!.body).toContain('<basic>open</basic>');
      expect(n[3]!.body).not.toContain('<basic>open</basic>');

      const presence = await readTopic({ brokers: s.kafka.brokers, topic: topic('current-presence'), partitions: 4, count: 1, settleMs: 1000 });
      const last = await serde.decode('current-presence', presence.at(-1)!.value!);
      expect(last).toMatchObject({ subscriber: A, networkState: 'purged', basic: 'closed' });
    } finally {
      await em1.stop();
    }

    // Another member takes over: the dialog (CSeq, version) comes back from the changelog.
    const em2 = await startEventManager(s, { memberId: 'em-2', rulesSchema });
    try {
      await producer.send(topic('subscriptions'), A, serde.encode('subscriptions', subscribe(2, 0)));
      const n = await notifies(5);
      expect(n.at(-1)).toMatchObject({ subscriptionState: 'terminated', reason: 'timeout', version: 5, cseq: 5 });
      expect(em2.processor.stats.restoredRecords).toBeGreaterThan(0);
    } finally {
      await em2.stop();
    }
  });

  it("computes connectability from presence and the subscriber's availability settings", async () => {
    const B = 'msisdn:+351910000002';
    const C = 'msisdn:+351910000003';
    const settings = new AvailabilityStore(dbUrl, rulesSchema);
    await settings.migrate();
    await settings.set(B, { mode: 'busy' });
    await settings.set(C, { mode: 'available', forwardTo: '+351210000000' });
    await settings.close();
    const em = await startEventManager(s, { memberId: 'em-availability', rulesSchema });
    try {
      for (const who of [B, C]) {
        await producer.send(
          topic('signaling-events'),
          who,
          serde.encode(
            'signaling-events',
            mapEvent(who, 'updateLocation', 'invoke', T + 1000, { vlrNumber: '351910999001', mscNumber: '351910999001', opc: 100, dpc: 200 }),
          ),
        );
        await producer.send(
          topic('signaling-events'),
          who,
          serde.encode('signaling-events', mapEvent(who, 'updateLocation', 'result', T + 1100, { opc: 200, dpc: 100 })),
        );
      }
      const want = (r: { subscriber: string; networkState: string }) => (r.subscriber === B || r.subscriber === C) && r.networkState === 'attached';
      const deadline = Date.now() + 60_000;
      let latest = new Map<string, string>();
      while (latest.size < 2 && Date.now() < deadline) {
        const got = await readTopic({ brokers: s.kafka.brokers, topic: topic('current-presence'), partitions: 4, count: 1, settleMs: 1000 });
        latest = new Map();
        for (const m of got) {
          const p = await serde.decode('current-presence', m.value!);
          if (want(p)) latest.set(p.subscriber, p.connectability);
        }
      }
      expect(latest.get(B)).toBe('not-connectable');
      expect(latest.get(C)).toBe('in-transfer');
    } finally {
      await em.stop();
    }
  });

  it('assigns partition p of every input topic to the same member, so state is never split between two', async () => {
    const a = await startEventManager(s, { memberId: 'em-copart-a', rulesSchema });
    const b = await startEventManager(s, { memberId: 'em-copart-b', rulesSchema });
    try {
      // Every topic the member consumes (availability-profiles and watcher-consents too, since issue 16 parts 6 and 4; directory-changes' tombstones since 15.5).
      const inputs = EVENT_MANAGER_INPUTS.map((n) => topic(n));
      expect(inputs).toHaveLength(7);
      const byPartition = (em: typeof a) => {
        const m = new Map<number, Set<string>>();
        for (const tp of em.processor.assignments()) m.set(tp.partition, (m.get(tp.partition) ?? new Set()).add(tp.topic));
        return m;
      };
      // Wait for the group to settle with both members holding something.
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const [pa, pb] = [byPartition(a), byPartition(b)];
        if (pa.size > 0 && pb.size > 0 && pa.size + pb.size === 4) break;
        await sleep(250);
      }
      const [pa, pb] = [byPartition(a), byPartition(b)];
      expect(pa.size + pb.size).toBe(4);
      for (const m of [pa, pb]) for (const topics of m.values()) expect([...topics].sort()).toEqual([...inputs].sort());
      for (const p of pa.keys()) expect(pb.has(p)).toBe(false);
      await Promise.all([a.processor.restored(), b.processor.restored()]);
      expect(a.processor.ctx.partitions()).toEqual([...pa.keys()].sort((x, y) => x - y));
      expect(b.processor.ctx.partitions()).toEqual([...pb.keys()].sort((x, y) => x - y));
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
