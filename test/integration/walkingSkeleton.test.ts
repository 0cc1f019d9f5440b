// End to end through the real broker and registry: signaling events produced
// to the signaling topic are consumed by an event-manager group member and
// turned into notify requests, Avro through the registry, exactly once —
// also when a transaction is aborted midway and its batch re-read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SignalingEvent } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { startEventManager } from '../../streams/event-manager/eventManager.ts';
import { RecordProducer } from '../../streams/runtime/recordProducer.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { readTopic } from '../support/topicReader.ts';

const s = isolatedSettings('skeleton', 4);
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
let producer: RecordProducer;

function event(i: number): SignalingEvent {
  const msisdn = `+3519100${String(i % 25).padStart(5, '0')}`;
  return {
    eventId: `test/${i}`,
    time: 1_700_000_000_000 + i,
    subscriber: `msisdn:${msisdn}`,
    identities: { imsi: null, msisdn, aor: null },
    protocol: 'map',
    message: i % 3 === 0 ? 'purgeMS' : 'updateLocation',
    kind: 'invoke',
    source: { tap: 'test', capture: null, frame: i },
    map: null,
    isup: null,
    sip: null,
  };
}

beforeAll(async () => {
  await applyIsolated(s);
  await serde.loadIds();
  producer = new RecordProducer(s.kafka.brokers, 'it-skeleton', 15_000);
  await producer.connect();
});

afterAll(async () => {
  await producer?.close();
  await cleanupIsolated(s);
});

describe('walking skeleton: signaling → event manager → notify requests', () => {
  it('turns every event into exactly one notify request, keyed by subscriber, even across an aborted transaction', async () => {
    const N = 300;
    await Promise.all(Array.from({ length: N }, (_, i) => producer.send(topicName(s.topics.prefix, 'signaling-events'), event(i).subscriber, serde.encode('signaling-events', event(i)))));
    // One garbage value: it must land in the dead letters with its bytes, not stop the member.
    const garbage = Buffer.from('not avro at all');
    await producer.send(topicName(s.topics.prefix, 'signaling-events'), 'msisdn:+351910000000', garbage);

    let failOnce = true;
    const em = await startEventManager(s, {
      memberId: 'it-1',
      beforeBatch: (batch) => {
        if (failOnce && batch.length > 1) {
          failOnce = false;
          throw new Error('injected failure inside the transaction');
        }
      },
    });
    try {
      const notifies = await readTopic({ brokers: s.kafka.brokers, topic: topicName(s.topics.prefix, 'notify-requests'), partitions: 4, count: N, timeoutMs: 60_000, settleMs: 2000 });
      expect(em.stats.aborts).toBeGreaterThanOrEqual(1);
      expect(notifies).toHaveLength(N);
      const decoded = await Promise.all(notifies.map((m) => serde.decode('notify-requests', m.value!)));
      const causes = decoded.map((d) => d.causeEventId).sort();
      expect(new Set(causes).size).toBe(N);
      expect(causes).toEqual(Array.from({ length: N }, (_, i) => `test/${i}`).sort());
      for (let i = 0; i < notifies.length; i++) {
        // Keyed by the presentity: the notify stays on the subscriber's partition.
        expect(notifies[i]!.key!.toString()).toBe(decoded[i]!.presentity);
        expect(decoded[i]!.body).toContain(decoded[i]!.presentity);
      }
      const purge = decoded.find((d) => d.causeEventId === 'test/3')!;
      expect(purge.body).toContain('<basic>closed</basic>');

      const dead = await readTopic({ brokers: s.kafka.brokers, topic: topicName(s.topics.prefix, 'dead-letters'), partitions: 3, count: 1, timeoutMs: 30_000, settleMs: 500 });
      expect(dead).toHaveLength(1);
      const dl = await serde.decode('dead-letters', dead[0]!.value!);
      expect(dl.component).toBe('event-manager');
      expect(Buffer.compare(dl.raw, garbage)).toBe(0);
      expect(dl.origin).toMatch(/signaling-events\[\d+\]@\d+/);
    } finally {
      await em.stop();
    }
  });
});
