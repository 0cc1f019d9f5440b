// Copies one topic into another with a different partition count: every
// committed record, in offset order per source partition, with its key,
// value (tombstones too), headers and timestamp. The producer's murmur2
// partitioner places each key where every client of the new topic will look
// for it. A key lives in one source partition, so its records keep their order,
// and compaction leaves the same latest value per key as in the source.
import Kafka from 'node-rdkafka';
import { producerConfig, producerTopicConfig } from '../rdkafkaConfig.ts';
import { rdkafkaSecurity } from '../kafkaSecurity.ts';
import { routeClientLog } from '../clientLog.ts';
import { asError, connectConsumer, connectProducer, consumeBatch, disconnect, flush, type Consumer, type Producer } from '../rdkafkaPromises.ts';

export interface TopicCopyResult {
  from: string;
  to: string;
  records: number;
  bytes: number;
}

/** librdkafka's "queue full": wait for deliveries, then produce again. */
const ERR_QUEUE_FULL = -184;

/**
 * Reads `from` to its end (read_committed) and writes every record to `to`.
 * `ends` are the source's high watermarks, taken while nothing writes to it:
 * a partition read to its end short of them holds an open transaction.
 */
export async function copyTopic(
  brokers: string,
  from: string,
  to: string,
  ends: Map<number, number>,
  o: {
    clientId: string;
    idleTimeoutMs?: number;
    onProgress?: (records: number) => void;
    /** The topic's max.message.bytes when above the client default (group documents). */ maxMessageBytes?: number;
  },
): Promise<TopicCopyResult> {
  const result: TopicCopyResult = { from, to, records: 0, bytes: 0 };
  const pending = [...ends].filter(([, end]) => end > 0).map(([p]) => p);
  if (pending.length === 0) return result;
  const consumer: Consumer = new Kafka.KafkaConsumer(
    {
      'metadata.broker.list': brokers,
      ...rdkafkaSecurity(),
      'client.id': `${o.clientId}-read`,
      // librdkafka wants a group id even for assign(); nothing is ever committed under it.
      'group.id': `${o.clientId}-read`,
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'isolation.level': 'read_committed',
      'enable.partition.eof': true,
    },
    { 'auto.offset.reset': 'earliest' },
  );
  const producer: Producer = new Kafka.Producer(
    producerConfig(
      { brokers, clientId: `${o.clientId}-write` },
      { 'queue.buffering.max.messages': 100_000, 'linger.ms': 20, ...(o.maxMessageBytes ? { 'message.max.bytes': o.maxMessageBytes } : {}) },
    ),
    producerTopicConfig,
  );
  routeClientLog(consumer, `${o.clientId}-read`);
  routeClientLog(producer, `${o.clientId}-write`);
  let deliveryError: Error | undefined;
  producer.on('delivery-report', (err) => {
    if (err && !deliveryError) deliveryError = new Error(`writing ${to} failed: ${asError(err).message}`);
  });
  await connectConsumer(consumer);
  try {
    await connectProducer(producer);
    producer.setPollInterval(20);
    const atEnd = new Set<number>();
    consumer.on('partition.eof', (e: { partition: number }) => void atEnd.add(e.partition));
    consumer.setDefaultConsumeTimeout(200);
    consumer.assign(pending.map((partition) => ({ topic: from, partition, offset: -2 /* beginning */ })));
    const idleTimeoutMs = o.idleTimeoutMs ?? 30_000;
    let lastRecordAt = Date.now();
    while (atEnd.size < pending.length) {
      const batch = await consumeBatch(consumer, 5000);
      if (batch.length) lastRecordAt = Date.now();
      else if (Date.now() - lastRecordAt > idleTimeoutMs)
        throw new Error(
          `reading ${from} stalled: no record for ${idleTimeoutMs / 1000} s with partitions ${pending.filter((p) => !atEnd.has(p)).join(',')} not at their end`,
        );
      for (const m of batch) {
        if (deliveryError) throw deliveryError;
        for (;;) {
          try {
            producer.produce(to, null, m.value ?? null, m.key ?? null, m.timestamp, undefined, m.headers);
            break;
          } catch (err) {
            if ((err as { code?: number }).code !== ERR_QUEUE_FULL) throw new Error(`writing ${to} failed: ${asError(err).message}`, { cause: err });
            await new Promise((r) => setTimeout(r, 50));
          }
        }
        result.records++;
        result.bytes += (m.value?.length ?? 0) + (m.key?.length ?? 0);
      }
      if (batch.length) o.onProgress?.(result.records);
    }
    // End of a read_committed read is the last stable offset: short of the high watermark, a transaction is still open.
    const positions = consumer.position(pending.map((partition) => ({ topic: from, partition })));
    for (const p of positions) {
      const end = ends.get(p.partition)!;
      if ((p.offset ?? 0) < end)
        throw new Error(
          `${from}[${p.partition}] ends at ${end} but its committed records end at ${p.offset}: a transaction is open (a writer still running, or one that crashed: its transaction times out)`,
        );
    }
    await flush(producer, 60_000);
    if (deliveryError) throw deliveryError;
    return result;
  } finally {
    await disconnect(producer);
    await disconnect(consumer);
  }
}
