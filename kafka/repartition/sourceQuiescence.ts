// Whether a prefix's topics are at rest for a repartition: every consumer
// group that has read them is stopped (no members) and has committed up to
// their ends. Kafka cannot say who writes, so the caller compares the ends
// before and after its copy (ends()).
import type { Admin } from 'kafkajs';
import Kafka from 'node-rdkafka';
import { describeConsumerGroup } from '../consumerGroupAdmin.ts';
import { groupLag, type PartitionLag } from '../groupLag.ts';
import { retryRetriable } from '../kafkaAdmin.ts';
import { rdkafkaSecurity } from '../kafkaSecurity.ts';
import { connectConsumer, consumeBatch, disconnect, type Consumer } from '../rdkafkaPromises.ts';

export interface GroupAtRest {
  groupId: string;
  /** Source topics the group has committed offsets on. */
  topics: string[];
}

export interface Quiescence {
  groups: GroupAtRest[];
  /** Why the topics are not at rest; empty when they are. */
  problems: string[];
}

/** Each topic's high watermark per partition. */
export async function topicEnds(admin: Admin, topics: string[]): Promise<Map<string, Map<number, number>>> {
  const out = new Map<string, Map<number, number>>();
  for (const topic of topics) {
    const offsets = await retryRetriable(`reading the ends of ${topic}`, () => admin.fetchTopicOffsets(topic));
    out.set(topic, new Map(offsets.map((o) => [o.partition, Number(o.high)])));
  }
  return out;
}

/** Members a group has, whichever protocol it speaks (kafkajs describes classic groups only). */
async function memberCount(admin: Admin, brokers: string, groupId: string): Promise<number> {
  const consumerProtocol = await describeConsumerGroup(brokers, groupId).catch(() => undefined);
  if (consumerProtocol && consumerProtocol.members.length > 0) return consumerProtocol.members.length;
  const classic = await admin.describeGroups([groupId]).catch(() => undefined);
  return classic?.groups[0]?.members.length ?? 0;
}

export async function checkQuiescence(admin: Admin, brokers: string, topics: string[]): Promise<Quiescence> {
  const problems: string[] = [];
  const groups: GroupAtRest[] = [];
  const listed = await retryRetriable('listing consumer groups', () => admin.listGroups());
  for (const { groupId } of listed.groups) {
    const committed = await retryRetriable(`reading ${groupId}'s offsets`, () => admin.fetchOffsets({ groupId, topics }));
    const read = committed.filter((t) => t.partitions.some((p) => Number(p.offset) >= 0)).map((t) => t.topic);
    if (read.length === 0) continue;
    groups.push({ groupId, topics: read });
    const members = await memberCount(admin, brokers, groupId);
    if (members > 0) problems.push(`consumer group ${groupId} has ${members} member(s) running: stop them first`);
    const behind = await unprocessed(
      brokers,
      (await groupLag(brokers, groupId, read, admin)).filter((p) => p.lag > 0),
    );
    if (behind.length > 0) {
      const total = behind.reduce((n, p) => n + p.lag, 0);
      const where = behind
        .slice(0, 3)
        .map((p) => `${p.topic}[${p.partition}]`)
        .join(', ');
      problems.push(`consumer group ${groupId} has ${total} record(s) not yet processed (${where}${behind.length > 3 ? ', …' : ''}): let it catch up first`);
    }
  }
  return { groups, problems };
}

/**
 * The partitions whose lag holds committed records. A transactional writer's
 * commit marker takes an offset no consumer commits past (processors commit
 * the last record's offset + 1), so a caught-up group lags by the markers:
 * read what lies between its position and the end to tell.
 */
async function unprocessed(brokers: string, lagging: PartitionLag[]): Promise<PartitionLag[]> {
  if (lagging.length === 0) return [];
  const consumer: Consumer = new Kafka.KafkaConsumer(
    {
      'metadata.broker.list': brokers,
      ...rdkafkaSecurity(),
      'client.id': 'presence-repartition-check',
      'group.id': `presence-repartition-check-${process.pid}`,
      'enable.auto.commit': false,
      'isolation.level': 'read_committed',
      'enable.partition.eof': true,
    },
    { 'auto.offset.reset': 'earliest' },
  );
  await connectConsumer(consumer);
  try {
    const found = new Map<string, number>();
    const atEnd = new Set<string>();
    const id = (topic: string, partition: number) => `${topic}[${partition}]`;
    consumer.on('partition.eof', (e: { topic: string; partition: number }) => void atEnd.add(id(e.topic, e.partition)));
    consumer.setDefaultConsumeTimeout(200);
    consumer.assign(lagging.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.committed >= 0 ? p.committed : -2 })));
    for (const until = Date.now() + 30_000; atEnd.size < lagging.length && Date.now() < until;) {
      for (const m of await consumeBatch(consumer, 1000)) found.set(id(m.topic, m.partition), (found.get(id(m.topic, m.partition)) ?? 0) + 1);
    }
    // read_committed ends at the last stable offset: short of the end, a transaction is still open there.
    const stable = new Map(
      consumer.position(lagging.map((p) => ({ topic: p.topic, partition: p.partition }))).map((t) => [id(t.topic, t.partition), t.offset ?? -1]),
    );
    // A partition not read to its end in time counts as behind by its whole lag.
    return lagging
      .map((p) => {
        const k = id(p.topic, p.partition);
        const open = Math.max(0, p.end - (stable.get(k) ?? -1));
        return { ...p, lag: atEnd.has(k) && open === 0 ? (found.get(k) ?? 0) : p.lag };
      })
      .filter((p) => p.lag > 0);
  } finally {
    await disconnect(consumer);
  }
}
