// Co-partitioning, checked rather than assumed. A processor's input topics
// share one store (and one changelog partition) per partition number, so
// partition p of every input topic must be processed by one member. Two things
// can break that: topics with different partition counts (checked at start,
// the member refuses to run), and an assignment that splits p across members —
// mixed subscriptions during a rolling upgrade that adds an input topic, or an
// assignor that places topics independently (uniform). A member then holds
// only some of p's input topics; if it processed them, two members would
// write changelog p. So such a partition is refused: paused, its store not
// offered to batches, timers or hooks, until the member holds all of p.
import type Kafka from 'node-rdkafka';
import { withAdmin } from './kafkaAdmin.ts';
import type { OwnedPartitions } from './ownedPartitions.ts';
import type { Consumer } from './rdkafkaPromises.ts';

/** Throws, naming each topic's count, unless the input topics (and the changelog) have the same number of partitions. */
export async function checkPartitionCounts(brokers: string, inputTopics: string[], changelogTopic?: string): Promise<number> {
  const topics = [...inputTopics, ...(changelogTopic ? [changelogTopic] : [])];
  const meta = await withAdmin(brokers, (a) => a.fetchTopicMetadata({ topics }));
  const counts = new Map(meta.topics.map((t) => [t.name, t.partitions.length]));
  const distinct = new Set(topics.map((t) => counts.get(t)));
  if (distinct.size !== 1)
    throw new Error(
      `co-partitioned topics must have the same number of partitions: ${topics.map((t) => `${t}=${counts.get(t) ?? 'missing'}`).join(', ')}; ` +
        'fix the topology (presence topics apply) before starting this member',
    );
  return counts.get(topics[0]!)!;
}

/** Tracks which owned partition numbers are split (some input topics held elsewhere) and keeps them paused. */
export class CopartitionGuard {
  /** Times a partition was found split, for stats and tests. */
  refusals = 0;

  constructor(
    private readonly inputTopics: readonly string[],
    private readonly partitions: OwnedPartitions<unknown>,
    private readonly log?: (line: string) => void,
  ) {}

  /** After each assignment change: pauses newly split partitions, resumes those held whole again (unless still restoring). */
  check(consumer: Consumer): void {
    if (this.inputTopics.length < 2) return;
    const { owned, split } = this.partitions;
    for (const [p, topics] of owned) {
      const missing = this.inputTopics.filter((t) => !topics.has(t));
      const held: Kafka.TopicPartition[] = [...topics].map((topic) => ({ topic, partition: p }));
      if (topics.size > 0 && missing.length > 0) {
        if (!split.has(p)) {
          split.add(p);
          this.refusals++;
          this.log?.(
            `refusing to process partition ${p}: this member holds ${[...topics].join(', ')} but not ${missing.join(', ')} — ` +
              'the assignment split a co-partitioned partition (mixed subscriptions or an assignor that does not keep topics together); ' +
              'processing it would make two members write its changelog',
          );
        }
        consumer.pause(held);
      } else if (split.has(p)) {
        split.delete(p);
        this.log?.(`partition ${p}: all its input topics are held again, processing resumes`);
        if (!this.partitions.restoring.has(p) && held.length > 0) consumer.resume(held);
      }
    }
    for (const p of split) if (!owned.has(p) || owned.get(p)!.size === 0) split.delete(p);
  }
}
