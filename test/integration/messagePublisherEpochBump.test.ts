// The availability service's message publisher (a writer of signaling-events besides the
// taps) writes nothing twice when the broker's failures make its producer start a new
// epoch (issue 12, "nothing twice"). The same faults as tapPublisherEpochBump.test.ts,
// made with the protocol-aware proxy: a1 appended with its answer lost, b1 refused with
// UNKNOWN_PRODUCER_ID (an idempotent producer bumps its epoch and renumbers a1 from
// sequence 0), the connections cut. An idempotent producer wrote a1 twice; every reader
// of signaling-events is read_committed and must see each publish once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyTopology } from '../../kafka/applyTopology.ts';
import { partitionOf } from '../../kafka/partitioner.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { KafkaMessageService, noticeFacts } from '../../services/availability-service/messagePublisher.ts';
import { readAll } from '../../cli/demo/readCommitted.ts';
import { cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';
import { startKafkaFaultProxy, UNKNOWN_PRODUCER_ID, type KafkaFaultProxy } from '../support/kafkaFaultProxy.ts';
import { sleep, within } from '../support/wait.ts';

const PARTITIONS = 2;
const s = isolatedSettings('msg-epoch-bump', PARTITIONS);
let proxy: KafkaFaultProxy;

beforeAll(async () => {
  await applyTopology(s);
  proxy = await startKafkaFaultProxy(s.kafka.brokers, 27_401);
});

afterAll(async () => {
  await proxy?.close();
  await cleanupIsolated(s);
});

function keyOn(p: number): string {
  for (let i = 0; ; i++) if (partitionOf(`msisdn:+4915551${i}`, PARTITIONS) === p) return `msisdn:+4915551${i}`;
}

const notice = (id: string) =>
  noticeFacts({
    messageId: id,
    contentType: 'audio/wav',
    origin: 'tel:+441234',
    contact: null,
    context: 'voice-message',
    receivedAt: Date.now(),
    subject: null,
  });

describe('message publisher across a producer epoch bump', () => {
  it('a publish appended whose answer was lost is read once, not again after the producer moved to a new epoch', async () => {
    const topic = `${s.topics.prefix}signaling-events`;
    const [a, b] = [keyOn(0), keyOn(1)];
    const service = new KafkaMessageService({ ...s, kafka: { ...s.kafka, brokers: proxy.brokers } });
    await service.start();
    const ids = new Map<string, string>();
    const publish = async (key: string, name: string) => ids.set(name, await service.publish(key, notice(name), Date.now()));
    try {
      await publish(a, 'warm-a');
      await publish(b, 'warm-b');

      const lost = proxy.loseAck({ topic, partition: 0 });
      const refused = proxy.reject({ topic, partition: 1 }, UNKNOWN_PRODUCER_ID);
      const sent = Promise.all([publish(a, 'a1'), publish(b, 'b1')]);
      await within('a1 reaching the broker with its answer held back', lost.seen);
      await within('b1 refused with UNKNOWN_PRODUCER_ID', refused.answered);
      await sleep(500);
      proxy.cutClients();
      const cutAt = Date.now();
      await within('both publishes answered after the cut', sent, 60_000);
      console.log(`after the cut: both publishes answered in ${Date.now() - cutAt} ms`);
    } finally {
      await service.close().catch(() => {});
    }

    const serde = new RecordSerde(s.registry.url, s.topics.prefix);
    await serde.loadIds();
    const read = await readAll(s, serde, 'signaling-events');
    const times = (name: string) => read.filter((e) => e.eventId === ids.get(name)).length;
    expect({ 'warm-a': times('warm-a'), 'warm-b': times('warm-b'), a1: times('a1'), b1: times('b1') }).toEqual({ 'warm-a': 1, 'warm-b': 1, a1: 1, b1: 1 });
    expect(read).toHaveLength(4);
  });
});
