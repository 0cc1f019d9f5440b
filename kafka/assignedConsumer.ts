// Plumbing for a plain assigned consumer (no group, assign() to every
// partition): the consumer itself, how many partitions a topic has, where each
// ends, a read loop that outlives a failed fetch, and a read to the ends.
// Shared by compactedTopicMirror.ts, the SIP front end's reader of
// `publish-responses` and the repartition (repartition/).
import Kafka from 'node-rdkafka';
import { routeClientLog } from './clientLog.ts';
import { rdkafkaSecurity } from './kafkaSecurity.ts';
import { tpKey } from './partitionGroup.ts';
import { asError, consumeBatch, watermarks, type Consumer, type Message } from './rdkafkaPromises.ts';

/**
 * A consumer for assign() only, read_committed, that reports each partition's end
 * (partition EOF). librdkafka wants a group id even so: nothing is joined or committed under it.
 */
export function assignedReader(brokers: string, clientId: string, groupId: string): Consumer {
  const consumer: Consumer = new Kafka.KafkaConsumer(
    {
      'metadata.broker.list': brokers,
      ...rdkafkaSecurity(),
      'client.id': clientId,
      'group.id': groupId,
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'isolation.level': 'read_committed',
      'enable.partition.eof': true,
      'socket.keepalive.enable': true,
    },
    { 'auto.offset.reset': 'earliest' },
  );
  routeClientLog(consumer, clientId);
  return consumer;
}

export interface PartitionToRead {
  topic: string;
  partition: number;
  /** Where to start: an offset, or -2 for the beginning. */
  from: number;
  /** The partition's high watermark, taken while nothing writes to it. */
  end: number;
}

export interface ReadToEnd {
  /** Partitions (tpKey) read to their end. */
  atEnd: Set<string>;
  /**
   * Of those, the ones whose end fell short of their high watermark, with where it is: a
   * read_committed read ends at the last stable offset, so a transaction is still open there
   * (a writer still running, or a crashed one until its transaction times out).
   */
  open: Map<string, number>;
}

/**
 * Reads an assignedReader's partitions to their ends, each batch to `onBatch`. Gives up, with
 * the partitions not at their end left out of `atEnd`, after `totalMs`, or once no record came
 * for `idleMs`.
 */
export async function readToEnd(
  c: Consumer,
  parts: PartitionToRead[],
  onBatch: (batch: Message[]) => void | Promise<void>,
  giveUp: { totalMs?: number; idleMs?: number },
): Promise<ReadToEnd> {
  const atEnd = new Set<string>();
  const open = new Map<string, number>();
  if (parts.length === 0) return { atEnd, open };
  const onEof = (e: { topic: string; partition: number }) => void atEnd.add(tpKey(e.topic, e.partition));
  c.on('partition.eof', onEof);
  try {
    c.setDefaultConsumeTimeout(200);
    c.assign(parts.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.from })));
    const until = Date.now() + (giveUp.totalMs ?? Infinity);
    let lastRecordAt = Date.now();
    while (atEnd.size < parts.length && Date.now() < until && Date.now() - lastRecordAt <= (giveUp.idleMs ?? Infinity)) {
      const batch = await consumeBatch(c, 5000);
      if (batch.length === 0) continue;
      lastRecordAt = Date.now();
      await onBatch(batch);
    }
    const positions = c.position(parts.map(({ topic, partition }) => ({ topic, partition })));
    for (const p of parts) {
      const k = tpKey(p.topic, p.partition);
      const at = positions.find((q) => q.topic === p.topic && q.partition === p.partition)?.offset ?? -1;
      if (atEnd.has(k) && at < p.end) open.set(k, at);
    }
    return { atEnd, open };
  } finally {
    c.removeListener('partition.eof', onEof);
  }
}

/** The topic's partition count; rejects when there is no metadata or the topic does not exist. */
export function partitionCount(c: Consumer, topic: string, timeoutMs = 10_000): Promise<number> {
  return new Promise((resolve, reject) =>
    c.getMetadata({ topic, timeout: timeoutMs }, (err, md) => {
      if (err) return reject(new Error(`no metadata for ${topic}: ${asError(err).message}`));
      const t = md.topics.find((x) => x.name === topic);
      if (!t || t.partitions.length === 0) return reject(new Error(`topic ${topic} does not exist (run \`presence topics apply\`)`));
      resolve(t.partitions.length);
    }),
  );
}

/** The partition's high watermark: the offset the next record will get. */
export async function highWatermark(c: Consumer, topic: string, partition: number, timeoutMs = 10_000): Promise<number> {
  return (await watermarks(c, topic, partition, timeoutMs)).high;
}

/**
 * The next batch (up to max). A failed fetch is reported to onError (unless
 * the reader is stopping) and yields no records after retryMs, so the
 * caller's loop simply goes round again.
 */
export async function consumeOrRetry(
  c: Consumer,
  max: number,
  o: { readonly running: () => boolean; readonly retryMs: number; readonly onError: (err: Error) => void },
): Promise<Message[]> {
  try {
    return await consumeBatch(c, max);
  } catch (err) {
    if (!o.running()) return [];
    o.onError(asError(err));
    await new Promise((r) => setTimeout(r, o.retryMs));
    return [];
  }
}
