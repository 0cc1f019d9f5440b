// Whether a prefix's topics are at rest for a repartition: every consumer
// group that has read them is stopped (no members) and has committed up to
// their ends. Kafka cannot say who writes, so the caller compares the ends
// before and after its copy (ends()).
import type { Admin } from 'kafkajs';
import { describeConsumerGroup } from '../consumerGroupAdmin.ts';
import { groupLag, type PartitionLag } from '../groupLag.ts';
import { retryRetriable } from '../kafkaAdmin.ts';
import { ROLE_ACCESS } from '../../schemas/roleAccess.ts';
import { TOPICS } from '../../schemas/topology.ts';
import { assignedReader, readToEnd } from '../assignedConsumer.ts';
import { tpKey } from '../partitionGroup.ts';
import { connectConsumer, disconnect } from '../rdkafkaPromises.ts';

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

/**
 * Members a group has, whichever protocol it speaks (kafkajs describes classic groups only).
 * A group that cannot be described is not taken for an empty one: the error stops the check.
 */
async function memberCount(admin: Admin, brokers: string, groupId: string): Promise<number> {
  const consumerProtocol = await describeConsumerGroup(brokers, groupId);
  if (consumerProtocol && consumerProtocol.members.length > 0) return consumerProtocol.members.length;
  const classic = await retryRetriable(`describing consumer group ${groupId}`, () => admin.describeGroups([groupId]));
  return classic.groups[0]?.members.length ?? 0;
}

function where(parts: PartitionLag[]): string {
  return `${parts
    .slice(0, 3)
    .map((p) => `${p.topic}[${p.partition}]`)
    .join(', ')}${parts.length > 3 ? ', …' : ''}`;
}

/** What holds a group's partitions back: records it has not processed, or a transaction still open there. */
function lagProblems(who: string, behind: Unprocessed[]): string[] {
  const out: string[] = [];
  const open = behind.filter((p) => p.open);
  const records = behind.filter((p) => !p.open);
  if (open.length)
    out.push(
      `a transaction is open on ${where(open)} (a writer still running, or a crashed one: it is aborted after its transaction.timeout.ms): stop the writers, or wait, and check again`,
    );
  if (records.length) out.push(`${who} has ${records.reduce((n, p) => n + p.lag, 0)} record(s) not yet processed (${where(records)}): let it catch up first`);
  return out;
}

export interface QuiescenceOptions {
  /** The topic prefix: the roles' groups are named under it (schemas/roleAccess.ts). */
  prefix: string;
  /** Roles not deployed: their topics' records are nobody's to process. */
  notDeployed?: ReadonlySet<string>;
}

export async function checkQuiescence(admin: Admin, brokers: string, topics: string[], o: QuiescenceOptions): Promise<Quiescence> {
  const problems: string[] = [];
  const groups: GroupAtRest[] = [];
  const listed = await retryRetriable('listing consumer groups', () => admin.listGroups());
  for (const { groupId } of listed.groups) {
    const committed = await retryRetriable(`reading ${groupId}'s offsets`, () => admin.fetchOffsets({ groupId, topics }));
    const read = committed.filter((t) => t.partitions.some((p) => Number(p.offset) >= 0)).map((t) => t.topic);
    if (read.length === 0) continue;
    groups.push({ groupId, topics: read });
    const members = await memberCount(admin, brokers, groupId);
    if (members > 0)
      problems.push(
        `consumer group ${groupId} has ${members} member(s): stop them first (a static member that stopped for a restart stays one until its session times out; a paused Kafka Connect connector stays in its group: stop or delete it)`,
      );
    problems.push(
      ...lagProblems(
        `consumer group ${groupId}`,
        await unprocessed(
          brokers,
          (await groupLag(brokers, groupId, read, admin)).filter((p) => p.lag > 0),
        ),
      ),
    );
  }
  // A role's group that never committed on a topic it processes is not among the groups above:
  // records waiting there (a location request written as the event managers stopped) would be left behind.
  const known = new Map(groups.map((g) => [g.groupId, new Set(g.topics)]));
  for (const role of ROLE_ACCESS) {
    if (!role.groups?.length || o.notDeployed?.has(role.role)) continue;
    const roleGroups = role.groups.map((g) => `${o.prefix}${g}`);
    for (const name of role.reads) {
      const spec = TOPICS.find((t) => t.name === name);
      // Compacted topics are copied; component-keyed ones (publish answers, member reports) are read without a group.
      if (!spec || spec.cleanupPolicy !== 'delete' || spec.key === 'component') continue;
      const topic = `${o.prefix}${name}`;
      if (!topics.includes(topic) || roleGroups.some((g) => known.get(g)?.has(topic))) continue;
      const fromStart = (await groupLag(brokers, roleGroups[0]!, [topic], admin)).filter((p) => p.lag > 0);
      problems.push(
        ...lagProblems(
          `${topic} holds records no group of role ${role.role} (${roleGroups.join(', ')}) has processed: it`,
          await unprocessed(brokers, fromStart),
        ).map((p) => `${p} (or, if that role is not deployed, say so: --not-deployed ${role.role})`),
      );
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
interface Unprocessed extends PartitionLag {
  /** A transaction is still open on the partition. */
  open: boolean;
}

async function unprocessed(brokers: string, lagging: PartitionLag[]): Promise<Unprocessed[]> {
  if (lagging.length === 0) return [];
  const consumer = assignedReader(brokers, 'presence-repartition-check', `presence-repartition-check-${process.pid}`);
  await connectConsumer(consumer);
  try {
    const found = new Map<string, number>();
    const read = await readToEnd(
      consumer,
      lagging.map((p) => ({ topic: p.topic, partition: p.partition, from: p.committed >= 0 ? p.committed : -2, end: p.end })),
      (batch) => {
        for (const m of batch) found.set(tpKey(m.topic, m.partition), (found.get(tpKey(m.topic, m.partition)) ?? 0) + 1);
      },
      { totalMs: 30_000 },
    );
    // A partition not read to its end in time counts as behind by its whole lag.
    return lagging
      .map((p) => {
        const k = tpKey(p.topic, p.partition);
        const open = read.open.has(k);
        return { ...p, open, lag: read.atEnd.has(k) && !open ? (found.get(k) ?? 0) : p.lag };
      })
      .filter((p) => p.lag > 0);
  } finally {
    await disconnect(consumer);
  }
}
