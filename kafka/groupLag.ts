// How far a consumer group's committed offsets are behind the ends of its
// topics: the operator's "is it caught up?" (kafka-consumer-groups --describe).
// A processor's in-memory counters cannot answer that: they count records seen,
// including those of an aborted batch that is read again.
import type { Admin } from 'kafkajs';
import { withAdmin } from './kafkaAdmin.ts';

export interface PartitionLag {
  topic: string;
  partition: number;
  /** Next offset the group will read; -1 when it has committed none on this partition. */
  committed: number;
  /** The partition's high watermark. */
  end: number;
  /** Records not yet committed by the group (from the log start when it has committed none). */
  lag: number;
}

/** Per-partition lag of `groupId` on `topics`. */
export async function groupLag(brokers: string, groupId: string, topics: string[], admin?: Admin): Promise<PartitionLag[]> {
  const run = async (a: Admin): Promise<PartitionLag[]> => {
    const committed = await a.fetchOffsets({ groupId, topics });
    const out: PartitionLag[] = [];
    for (const topic of topics) {
      const ends = await a.fetchTopicOffsets(topic);
      const byPartition = new Map((committed.find((c) => c.topic === topic)?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
      for (const e of ends) {
        const end = Number(e.high);
        const c = byPartition.get(e.partition) ?? -1;
        out.push({ topic, partition: e.partition, committed: c, end, lag: Math.max(0, end - (c >= 0 ? c : Number(e.low))) });
      }
    }
    return out;
  };
  return admin ? run(admin) : withAdmin(brokers, run);
}

/** Total lag of `groupId` on `topics`. */
export async function totalLag(brokers: string, groupId: string, topics: string[]): Promise<number> {
  return (await groupLag(brokers, groupId, topics)).reduce((n, p) => n + p.lag, 0);
}
