// Plumbing for a plain assigned consumer (no group, assign() to every
// partition): how many partitions a topic has, where each ends, and a read
// loop that outlives a failed fetch. Shared by compactedTopicMirror.ts and the
// SIP front end's reader of `publish-responses`.
import { asError, consumeBatch, watermarks, type Consumer, type Message } from './rdkafkaPromises.ts';

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
