// The order a batch is processed in (Kafka Streams' PartitionGroup): each input
// topic partition's records stay in offset order, and across them the record with
// the smallest timestamp goes next, so a member's co-partitioned inputs (signaling,
// SUBSCRIBEs, reports of one partition number) are applied in event-time order
// rather than in the order the fetches happened to return them. Only within a batch:
// a record fetched in a later batch is not waited for (no max.task.idle.ms).
import type { InputRecord } from './processorTypes.ts';

export function inTimestampOrder(batch: InputRecord[]): InputRecord[] {
  const queues = new Map<string, InputRecord[]>();
  for (const r of batch) {
    const k = `${r.topic}\u0000${r.partition}`;
    let q = queues.get(k);
    if (!q) queues.set(k, (q = []));
    q.push(r);
  }
  if (queues.size < 2) return batch;
  // A record without a timestamp keeps its place behind the one before it in its partition.
  const heads = [...queues.values()].map((q) => ({ q, i: 0, last: -Infinity }));
  const ts = (h: (typeof heads)[number]) => h.q[h.i]!.timestamp ?? h.last;
  const out: InputRecord[] = [];
  while (out.length < batch.length) {
    let best: (typeof heads)[number] | undefined;
    for (const h of heads) if (h.i < h.q.length && (best === undefined || ts(h) < ts(best))) best = h;
    best!.last = ts(best!);
    out.push(best!.q[best!.i++]!);
  }
  return out;
}
