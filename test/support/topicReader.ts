// Reads a topic from the beginning (read_committed, no consumer group) until
// a count is reached or a deadline passes — then fails saying what arrived,
// so a dead broker fails a test with a message instead of hanging it.
import Kafka from 'node-rdkafka';
import { rdkafkaSecurity } from '../../kafka/kafkaSecurity.ts';
import { asError, connectConsumer, consumeBatch, disconnect, type Message } from '../../kafka/rdkafkaPromises.ts';

export interface ReadOptions {
  brokers: string;
  topic: string;
  partitions: number;
  /** Stop once this many records have arrived. */
  count: number;
  timeoutMs?: number;
  /** Keep reading this long after `count` is reached, to catch duplicates. */
  settleMs?: number;
}

export async function readTopic(o: ReadOptions): Promise<Message[]> {
  const consumer = new Kafka.KafkaConsumer(
    {
      'metadata.broker.list': o.brokers,
      // The same security settings as every client of ours (kafkaSecurity.ts), so tests can read a SASL_SSL broker.
      ...rdkafkaSecurity(),
      'group.id': `reader-${process.pid}-${Date.now()}`,
      'enable.auto.commit': false,
      'isolation.level': 'read_committed',
    },
    { 'auto.offset.reset': 'earliest' },
  );
  await connectConsumer(consumer, 10_000).catch((e) => {
    throw new Error(`could not connect to Kafka at ${o.brokers} to read ${o.topic}: ${asError(e).message}`);
  });
  consumer.setDefaultConsumeTimeout(200);
  consumer.assign(Array.from({ length: o.partitions }, (_, partition) => ({ topic: o.topic, partition, offset: 0 })));
  const out: Message[] = [];
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  let settleUntil: number | undefined;
  try {
    for (;;) {
      const batch = await consumeBatch(consumer, 1000).catch((e) => {
        throw new Error(`reading ${o.topic} failed: ${asError(e).message}`);
      });
      out.push(...batch);
      if (out.length >= o.count && settleUntil === undefined) settleUntil = Date.now() + (o.settleMs ?? 0);
      if (settleUntil !== undefined && Date.now() >= settleUntil) return out;
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${(o.timeoutMs ?? 60_000) / 1000}s reading ${o.topic} at ${o.brokers}: got ${out.length} of ${o.count} records`);
      }
    }
  } finally {
    await disconnect(consumer);
  }
}
