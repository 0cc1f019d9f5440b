// Reads a topic's committed records from the beginning until `count` records
// pass `accept`, or fails after `timeoutMs` saying how many arrived.
import Kafka from 'node-rdkafka';
import type { Settings } from '../../config/settings.ts';
import type { RecordSerde, TopicRecord } from '../../schemas/serde.ts';
import { topicName, type TopicName } from '../../schemas/topology.ts';
import { asError, connectConsumer, consumeBatch, disconnect } from '../../streams/runtime/rdkafkaPromises.ts';
import { withAdmin } from '../../streams/runtime/kafkaAdmin.ts';

export async function readCommitted<N extends TopicName>(
  s: Settings,
  serde: RecordSerde,
  topic: N,
  accept: (r: TopicRecord<N>) => boolean,
  count: number,
  timeoutMs: number,
  progress?: (got: number) => void,
): Promise<TopicRecord<N>[]> {
  const name = topicName(s.topics.prefix, topic);
  const meta = await withAdmin(s.kafka.brokers, (a) => a.fetchTopicMetadata({ topics: [name] }));
  const partitions = meta.topics[0]!.partitions.map((p) => p.partitionId);
  const consumer = new Kafka.KafkaConsumer(
    { 'metadata.broker.list': s.kafka.brokers, 'group.id': `presence-reader-${process.pid}`, 'enable.auto.commit': false, 'isolation.level': 'read_committed' },
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
  try {
    while (out.length < count) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s reading ${name}: ${out.length} of ${count} records arrived`);
      for (const m of await consumeBatch(consumer, 1000)) {
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
