// Reads a topic's committed records from the beginning until `count` records
// pass `accept`, or fails after `timeoutMs` saying how many arrived.
import Kafka from 'node-rdkafka';
import type { Settings } from '../../config/settings.ts';
import type { RecordSerde, TopicRecord } from '../../schemas/serde.ts';
import { topicName, type TopicName } from '../../schemas/topology.ts';
import { asError, connectConsumer, consumeBatch, disconnect } from '../../kafka/rdkafkaPromises.ts';
import { withAdmin } from '../../kafka/kafkaAdmin.ts';
import { rdkafkaSecurity } from '../../kafka/kafkaSecurity.ts';

/** Every committed record of a topic, from the beginning to its current end. */
export async function readAll<N extends TopicName>(s: Settings, serde: RecordSerde, topic: N, timeoutMs = 60_000): Promise<TopicRecord<N>[]> {
  const name = topicName(s.topics.prefix, topic);
  const offsets = await withAdmin(s.kafka.brokers, (a) => a.fetchTopicOffsets(name));
  const total = offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  // Transaction markers take offsets too: read until the consumer stops finding records.
  return readCommitted(s, serde, topic, () => true, total, timeoutMs, undefined, 1500);
}

async function readCommitted<N extends TopicName>(
  s: Settings,
  serde: RecordSerde,
  topic: N,
  accept: (r: TopicRecord<N>) => boolean,
  count: number,
  timeoutMs: number,
  progress?: (got: number) => void,
  /** Stop early once nothing has arrived for this long (for counts that are upper bounds). */
  idleMs?: number,
): Promise<TopicRecord<N>[]> {
  const name = topicName(s.topics.prefix, topic);
  const meta = await withAdmin(s.kafka.brokers, (a) => a.fetchTopicMetadata({ topics: [name] }));
  const partitions = meta.topics[0]!.partitions.map((p) => p.partitionId);
  const consumer = new Kafka.KafkaConsumer(
    {
      'metadata.broker.list': s.kafka.brokers,
      ...rdkafkaSecurity(),
      'group.id': `presence-reader-${process.pid}`,
      'enable.auto.commit': false,
      'isolation.level': 'read_committed',
    },
    { 'auto.offset.reset': 'earliest' },
  );
  await connectConsumer(consumer).catch((e) => {
    throw new Error(`could not connect to Kafka at ${s.kafka.brokers}: ${asError(e).message}`);
  });
  consumer.setDefaultConsumeTimeout(250);
  consumer.assign(partitions.map((partition) => ({ topic: name, partition, offset: 0 })));
  const out: TopicRecord<N>[] = [];
  const deadline = Date.now() + timeoutMs;
  let lastReport = 0;
  let lastArrival = Date.now();
  try {
    while (out.length < count) {
      if (idleMs !== undefined && Date.now() - lastArrival > idleMs) break;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s reading ${name}: ${out.length} of ${count} records arrived`);
      const batch = await consumeBatch(consumer, 1000);
      if (batch.length) lastArrival = Date.now();
      for (const m of batch) {
        if (!m.value) continue;
        const r = await serde.decode(topic, m.value);
        if (accept(r)) out.push(r);
      }
      if (progress && Date.now() - lastReport > 1000) {
        lastReport = Date.now();
        progress(out.length);
      }
    }
    return out;
  } finally {
    await disconnect(consumer);
  }
}
