// The tap's publisher writes nothing twice when the broker's failures make its
// producer start a new epoch (issue 12, "Broker restart: nothing twice").
//
// What a broker SIGKILL can leave behind, made deterministic with a protocol-aware
// proxy (test/support/kafkaFaultProxy.ts) in front of the shared broker:
//  1. a1's Produce is appended by the broker, but its answer is lost (the broker
//     "died" before answering): librdkafka holds a1 as possibly persisted, to retry;
//  2. b1's Produce, on another partition, is refused and answered
//     UNKNOWN_PRODUCER_ID (a restarted broker that lost the producer's state);
//     an idempotent librdkafka producer then drains and bumps its epoch — for
//     every partition (librdkafka INTRODUCTION.md, "Idempotent Producer": the
//     sequence restarts at the first queued message; the same happens on a
//     non-head-of-line OUT_OF_ORDER_SEQUENCE_NUMBER, issue #4953);
//  3. the connection drops (the held answer is gone): a1 is re-sent under the new
//     epoch at sequence 0, which the broker cannot tell from a new record.
// An idempotent producer thus wrote a1 twice (the 1,492 records for 1,490
// published of the chaos run). Every record must be read once by a
// read_committed reader, as every reader of signaling-events is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyTopology } from '../../kafka/applyTopology.ts';
import { partitionOf } from '../../kafka/partitioner.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { topicName } from '../../schemas/topology.ts';
import { SignalingPublisher } from '../../taps/signalingPublisher.ts';
import { readAll } from '../../cli/demo/readCommitted.ts';
import { cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';
import { startKafkaFaultProxy, UNKNOWN_PRODUCER_ID, type KafkaFaultProxy } from '../support/kafkaFaultProxy.ts';
import { mapEvent } from '../support/signalingEvents.ts';
import { sleep, within } from '../support/wait.ts';

const PARTITIONS = 2;
const s = isolatedSettings('tap-epoch-bump', PARTITIONS);
let proxy: KafkaFaultProxy;

beforeAll(async () => {
  await applyTopology(s);
  proxy = await startKafkaFaultProxy(s.kafka.brokers, 27_311);
});

afterAll(async () => {
  await proxy?.close();
  await cleanupIsolated(s);
});

/** A subscriber key on partition p. */
function keyOn(p: number): string {
  for (let i = 0; ; i++) if (partitionOf(`msisdn:+4915550${i}`, PARTITIONS) === p) return `msisdn:+4915550${i}`;
}

describe('tap publisher across a producer epoch bump', () => {
  it('a record appended whose answer was lost is read once, not again after the producer moved to a new epoch', async () => {
    const topic = topicName(s.topics.prefix, 'signaling-events');
    const [a, b] = [keyOn(0), keyOn(1)];
    const publisher = new SignalingPublisher({ ...s, kafka: { ...s.kafka, brokers: proxy.brokers } }, `it-tap-epoch-bump-${process.pid}`);
    let recovered: { aborts: number; restarts: number } | undefined;
    await publisher.connect();
    const t = Date.now();
    const event = (key: string, id: string) => mapEvent(key, 'updateLocation', 'invoke', t, {}, { eventId: id });
    try {
      // Both partitions have a producer state on the broker before the faults.
      await publisher.publish(event(a, 'warm-a'));
      await publisher.publish(event(b, 'warm-b'));
      await publisher.drain();

      const lost = proxy.loseAck({ topic, partition: 0 });
      const refused = proxy.reject({ topic, partition: 1 }, UNKNOWN_PRODUCER_ID);
      const sent = Promise.all([publisher.publish(event(a, 'a1')), publisher.publish(event(b, 'b1'))]);
      await within('a1 reaching the broker with its answer held back', lost.seen);
      await within('b1 refused with UNKNOWN_PRODUCER_ID', refused.answered);
      // Time for the producer to take the refusal in (and, idempotent, to start draining for its new epoch).
      await sleep(500);
      proxy.cutClients();
      await sent;
      const cutAt = Date.now();
      await within('the publisher draining after the cut', publisher.drain(), 60_000);
      recovered = { aborts: publisher.transactions.aborts, restarts: publisher.transactions.restarts };
      console.log(`after the cut: committed in ${Date.now() - cutAt} ms; transactions ${JSON.stringify(publisher.transactions)}`);
    } finally {
      await publisher.close().catch(() => {});
    }

    const serde = new RecordSerde(s.registry.url, s.topics.prefix);
    await serde.loadIds();
    const read = await readAll(s, serde, 'signaling-events');
    const times = (id: string) => read.filter((e) => e.eventId === id).length;
    expect({ 'warm-a': times('warm-a'), 'warm-b': times('warm-b'), a1: times('a1'), b1: times('b1') }).toEqual({ 'warm-a': 1, 'warm-b': 1, a1: 1, b1: 1 });
    expect(read).toHaveLength(4);
    // The faults reached the publisher: its transaction was aborted (or its producer replaced) and written again.
    expect((recovered?.aborts ?? 0) + (recovered?.restarts ?? 0)).toBeGreaterThan(0);
  });
});
