// One subscriber's newest record in the event managers' store changelog
// (compacted, keyed by subscriber): its partition read from the beginning to
// its end, keeping the last value of the key. Plain assign(), no group, nothing
// committed — the same reading as the locator's current presence.
import Kafka from 'node-rdkafka';
import { randomUUID } from 'node:crypto';
import type { Settings } from '../../config/settings.ts';
import type { PresenceState } from '../../schemas/generated/records.ts';
import type { RecordSerde } from '../../schemas/serde.ts';
import { topicName } from '../../schemas/topology.ts';
import { partitionOf } from '../../kafka/partitioner.ts';
import { rdkafkaSecurity } from '../../kafka/kafkaSecurity.ts';
import { connectConsumer, consumeBatch, disconnect } from '../../kafka/rdkafkaPromises.ts';

/** The subscriber's newest store record, null when the partition holds none (or only a tombstone); rejects past the time limit. */
export async function newestState(s: Settings, serde: RecordSerde, key: string, timeoutMs = 20_000): Promise<PresenceState | null> {
  const topic = topicName(s.topics.prefix, 'event-manager-presence-store-changelog');
  const partition = partitionOf(key, s.topics.partitions);
  const c = new Kafka.KafkaConsumer(
    {
      'metadata.broker.list': s.kafka.brokers,
      ...rdkafkaSecurity(),
      'group.id': `presence-console-read-${process.pid}-${randomUUID()}`,
      'enable.auto.commit': false,
      'isolation.level': 'read_committed',
      'enable.partition.eof': true,
    },
    { 'auto.offset.reset': 'earliest' },
  );
  await connectConsumer(c, 10_000);
  let eof = false;
  c.on('partition.eof', () => (eof = true));
  c.setDefaultConsumeTimeout(100);
  c.assign([{ topic, partition, offset: -2 /* beginning */ }]);
  let last: Buffer | null = null;
  try {
    const deadline = Date.now() + timeoutMs;
    while (!eof) {
      if (Date.now() > deadline) throw new Error(`reading ${topic}[${partition}] did not reach its end within ${timeoutMs / 1000} s`);
      for (const m of await consumeBatch(c, 1000)) if (m.key?.toString() === key) last = m.value && m.value.length > 0 ? m.value : null;
    }
  } finally {
    await disconnect(c);
  }
  return last ? serde.decode('event-manager-presence-store-changelog', last) : null;
}
