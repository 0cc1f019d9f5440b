// Follows a topic as records commit (read_committed, no consumer group), noting
// when each arrived here, so a test can measure how long a change took to reach
// the topic and wait for the next record that matches.
import Kafka from 'node-rdkafka';
import { rdkafkaSecurity } from '../../kafka/kafkaSecurity.ts';
import { asError, connectConsumer, consumeBatch, disconnect, type Message } from '../../kafka/rdkafkaPromises.ts';
import { eventually } from './wait.ts';

export interface Arrived {
  message: Message;
  /** Date.now() when this process received it. */
  at: number;
}

export interface TopicTail {
  readonly arrived: readonly Arrived[];
  /** The first record after index `from` that `match` accepts, waiting up to `timeoutMs`. */
  next(what: string, from: number, match: (m: Message) => boolean, timeoutMs?: number): Promise<Arrived>;
  stop(): Promise<void>;
}

export async function tailTopic(brokers: string, topic: string, partitions: number): Promise<TopicTail> {
  const consumer = new Kafka.KafkaConsumer(
    {
      'metadata.broker.list': brokers,
      ...rdkafkaSecurity(),
      'group.id': `tail-${process.pid}-${Date.now()}`,
      'enable.auto.commit': false,
      'isolation.level': 'read_committed',
      // What is measured is the pipeline, not this reader's fetch wait.
      'fetch.wait.max.ms': 20,
    },
    { 'auto.offset.reset': 'earliest' },
  );
  await connectConsumer(consumer, 10_000);
  consumer.setDefaultConsumeTimeout(50);
  consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 0 })));
  const arrived: Arrived[] = [];
  let running = true;
  let failure: Error | undefined;
  const loop = (async () => {
    while (running) {
      try {
        for (const message of await consumeBatch(consumer, 500)) arrived.push({ message, at: Date.now() });
      } catch (err) {
        failure = asError(err);
        return;
      }
    }
  })();
  return {
    arrived,
    next: (what, from, match, timeoutMs = 30_000) =>
      eventually(
        what,
        () => {
          if (failure) throw new Error(`reading ${topic} failed: ${failure.message}`);
          return arrived.slice(from).find((a) => match(a.message));
        },
        { timeoutMs, intervalMs: 10 },
      ),
    async stop() {
      running = false;
      await loop;
      await disconnect(consumer);
    },
  };
}
