// Copies one topic into another with a different partition count: every
// committed record, in offset order per source partition, with its key,
// value (tombstones too), headers and timestamp. The producer's murmur2
// partitioner places each key where every client of the new topic will look
// for it. A key lives in one source partition, so its records keep their order,
// and compaction leaves the same latest value per key as in the source.
import Kafka from 'node-rdkafka';
import { producerConfig, producerTopicConfig } from '../rdkafkaConfig.ts';
import { routeClientLog } from '../clientLog.ts';
import { assignedReader, readToEnd } from '../assignedConsumer.ts';
import { tpKey } from '../partitionGroup.ts';
import { asError, connectConsumer, connectProducer, disconnect, flush, type Producer } from '../rdkafkaPromises.ts';

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
  const consumer = assignedReader(brokers, `${o.clientId}-read`, `${o.clientId}-read`);
  const producer: Producer = new Kafka.Producer(
    producerConfig(
      { brokers, clientId: `${o.clientId}-write` },
      { 'queue.buffering.max.messages': 100_000, 'linger.ms': 20, ...(o.maxMessageBytes ? { 'message.max.bytes': o.maxMessageBytes } : {}) },
    ),
    producerTopicConfig,
  );
  routeClientLog(producer, `${o.clientId}-write`);
  let deliveryError: Error | undefined;
  producer.on('delivery-report', (err) => {
    if (err && !deliveryError) deliveryError = new Error(`writing ${to} failed: ${asError(err).message}`);
  });
  await connectConsumer(consumer);
  try {
    await connectProducer(producer);
    producer.setPollInterval(20);
    const idleTimeoutMs = o.idleTimeoutMs ?? 30_000;
    const parts = pending.map((partition) => ({ topic: from, partition, from: -2 /* beginning */, end: ends.get(partition)! }));
    const read = await readToEnd(
      consumer,
      parts,
      async (batch) => {
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
        o.onProgress?.(result.records);
      },
      { idleMs: idleTimeoutMs },
    );
    const behind = parts.filter((p) => !read.atEnd.has(tpKey(from, p.partition))).map((p) => p.partition);
    if (behind.length) throw new Error(`reading ${from} stalled: no record for ${idleTimeoutMs / 1000} s with partitions ${behind.join(',')} not at their end`);
    const open = parts.find((p) => read.open.has(tpKey(from, p.partition)));
    if (open)
      throw new Error(
        `${from}[${open.partition}] ends at ${open.end} but its committed records end at ${read.open.get(tpKey(from, open.partition))}: a transaction is open (a writer still running, or one that crashed: its transaction times out)`,
      );
    await flush(producer, 60_000);
    if (deliveryError) throw deliveryError;
    return result;
  } finally {
    await disconnect(producer);
    await disconnect(consumer);
  }
}
