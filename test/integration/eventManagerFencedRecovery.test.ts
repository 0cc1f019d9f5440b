// An event manager whose producer is fenced goes on in place (issue 12): no NOTIFY
// lost, none twice, the member still running. Fenced for real on the shared broker: a
// twin producer runs initTransactions with the member's transactional id (as a
// restarted process with the same member id would). Before, the member stopped and
// waited for its supervisor; now it drops its uncommitted state, takes a new producer
// of the same id, restores its partitions from the changelog and re-reads its inputs
// from the committed offsets (kafka/processorLoop.ts recoverInPlace).
import Kafka from 'node-rdkafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memberIds } from '../../kafka/memberIdentity.ts';
import { producerTopicConfig, transactionalProducerConfig } from '../../kafka/rdkafkaConfig.ts';
import { connectProducer, disconnect, initTransactions } from '../../kafka/rdkafkaPromises.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import type { NotifyRequest, SignalingEvent, Subscription } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { startEventManager } from '../../streams/event-manager/eventManager.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { mapEvent } from '../support/signalingEvents.ts';
import { readTopic } from '../support/topicReader.ts';
import { subscriptionRecord } from '../support/subscriptionRecords.ts';
import { eventually } from '../support/wait.ts';

const PARTITIONS = 2;
const base = isolatedSettings('em-fenced', PARTITIONS);
const s = { ...base, database: { ...base.database, url: testDatabaseUrl } };
const rulesSchema = `it_em_fenced_${process.pid}`;
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
let producer: RecordProducer;

const A = 'msisdn:+351910000001';
const T = Date.UTC(2026, 0, 1, 8);
const topic = (n: Parameters<typeof topicName>[1]) => topicName(s.topics.prefix, n as never);

function subscribe(cseq: number, expires: number, over: Partial<Subscription> = {}): Subscription {
  return subscriptionRecord(A, 'dialog-1', {
    requestId: `sub-${cseq}`,
    receivedAt: T + cseq,
    expires,
    watcherTag: 'wtag',
    cseq,
    localTag: 'fe-tag-1',
    ...over,
  });
}

const signaling: SignalingEvent[] = [
  mapEvent(A, 'updateLocation', 'invoke', T + 1000, { vlrNumber: '351910999001', mscNumber: '351910999001', opc: 100, dpc: 200 }, { eventId: 'e1' }),
  mapEvent(A, 'updateLocation', 'result', T + 1100, { hlrNumber: '351910999900', opc: 200, dpc: 100 }, { eventId: 'e2' }),
  mapEvent(A, 'purgeMS', 'invoke', T + 60_000, { vlrNumber: '351910999001', opc: 100, dpc: 200 }, { eventId: 'e3' }),
];

async function notifies(count: number): Promise<NotifyRequest[]> {
  const got = await readTopic({ brokers: s.kafka.brokers, topic: topic('notify-requests'), partitions: PARTITIONS, count, timeoutMs: 60_000, settleMs: 2000 });
  return Promise.all(got.map((m) => serde.decode('notify-requests', m.value!)));
}

/** A twin with the member's transactional id: its initTransactions fences the member's producer. */
async function fence(transactionalId: string): Promise<void> {
  const twin = new Kafka.Producer(
    transactionalProducerConfig({ brokers: s.kafka.brokers, clientId: 'it-em-fenced-twin' }, transactionalId),
    producerTopicConfig,
  );
  await connectProducer(twin);
  await initTransactions(twin, 15_000);
  await disconnect(twin);
}

beforeAll(async () => {
  await applyIsolated(s);
  await serde.loadIds();
  producer = new RecordProducer(s.kafka.brokers, 'it-em-fenced', 15_000);
  await producer.connect();
});

afterAll(async () => {
  await producer?.close();
  await cleanupIsolated(s);
  await dropSchema(rulesSchema);
});

describe('event manager with a fenced producer', () => {
  it('recovers in place: every NOTIFY once, in dialog order, and the member keeps running', async () => {
    await producer.send(topic('subscriptions'), A, serde.encode('subscriptions', subscribe(1, 3600)));
    const em = await startEventManager(s, { memberId: 'em-fenced', rulesSchema });
    let ended: unknown = 'running';
    void em.done().then(
      () => (ended = 'ended'),
      (e: unknown) => (ended = e),
    );
    try {
      expect((await notifies(1)).map((x) => x.causeEventId)).toEqual(['sub-1']);
      await fence(memberIds(s.topics.prefix, 'event-manager', 'em-fenced').transactionalId);
      const fencedAt = Date.now();
      for (const e of signaling) await producer.send(topic('signaling-events'), A, serde.encode('signaling-events', e));
      const n = await notifies(4);
      await eventually('the recovery counted', () => em.processor.stats.producerRecoveries >= 1, { timeoutMs: 30_000 });
      console.log(
        `fenced → 4 NOTIFYs read ${Date.now() - fencedAt} ms later; recoveries ${em.processor.stats.producerRecoveries}, restores ${em.processor.stats.restores}`,
      );
      expect(n.map((x) => x.causeEventId)).toEqual(['sub-1', 'e1', 'e2', 'e3']);
      expect(n.map((x) => x.version)).toEqual([1, 2, 3, 4]);
      expect(n.map((x) => x.cseq)).toEqual([1, 2, 3, 4]);
      expect(ended, 'the event manager kept running').toBe('running');
      expect(em.processor.health().running).toBe(true);
    } finally {
      await em.stop();
    }
  }, 120_000);
});
