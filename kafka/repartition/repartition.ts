// `presence topics repartition`: moves a system to more (or fewer) subscriber
// partitions. Kafka cannot re-hash keyed data in place, so the procedure is
// the one Kafka Streams users follow by hand: with the roles stopped and
// caught up, create the topology under a new prefix, copy every compacted
// topic (state changelogs, current presence, groups, profiles, directory)
// re-keyed into the new partition count, and carry each consumer group's
// position over as the end of the copied topics, so nothing is processed
// twice and nothing is skipped. The roles then start with the new prefix and
// restore their state from the copied changelogs. Delete-policy topics
// (signaling history, requests, reports) are not copied: every group has
// already processed them, and their history stays readable under the old prefix.
import type { Settings } from '../../config/settings.ts';
import { TOPICS, partitionsOf, topicName, type TopicSpec } from '../../schemas/topology.ts';
import { applyTopology } from '../applyTopology.ts';
import { describeConsumerGroup } from '../consumerGroupAdmin.ts';
import { commitGroupOffsets } from '../groupOffsets.ts';
import { retryRetriable, withAdmin } from '../kafkaAdmin.ts';
import { checkQuiescence, topicEnds, type GroupAtRest } from './sourceQuiescence.ts';
import { copyTopic, type TopicCopyResult } from './topicCopy.ts';

/** Compacted, but nothing to carry: members report afresh under the new prefix. */
const NOT_COPIED = new Set<string>(['event-manager-members']);

export interface RepartitionTarget {
  prefix: string;
  partitions: number;
}

export interface RepartitionReport {
  from: RepartitionTarget;
  to: RepartitionTarget;
  copied: TopicCopyResult[];
  /** Source groups under the old prefix → their new ids, with positions at the copies' ends. */
  carried: Array<{ from: string; to: string; topics: number }>;
  /** Groups outside the prefix (e.g. Kafka Connect's) that read these topics: their new connectors read from the start. */
  notCarried: string[];
  seconds: number;
}

export class RepartitionRefused extends Error {
  constructor(readonly problems: string[]) {
    super(`the topics cannot be repartitioned now:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'RepartitionRefused';
  }
}

/** The topics whose records carry over: compacted ones (state and latest values). */
export function copiedTopics(): TopicSpec[] {
  return (TOPICS as readonly TopicSpec[]).filter((t) => t.cleanupPolicy === 'compact' && !NOT_COPIED.has(t.name));
}

/**
 * Checks, and unless `checkOnly` carries out, the move from the settings'
 * prefix to `to`. Refuses (RepartitionRefused) while roles run or lag, when
 * the target holds records or groups, or when the source changed during the copy.
 */
export async function repartition(
  s: Settings,
  to: RepartitionTarget,
  o: { checkOnly?: boolean; notDeployed?: ReadonlySet<string>; log?: (line: string) => void } = {},
): Promise<RepartitionReport> {
  const log = o.log ?? (() => {});
  const started = Date.now();
  const from: RepartitionTarget = { prefix: s.topics.prefix, partitions: s.topics.partitions };
  const problems: string[] = [];
  if (!to.prefix || to.prefix === from.prefix) problems.push(`the new prefix must differ from the current one (${from.prefix})`);
  // Groups are carried by their prefix: without one, every group of the cluster would look like ours.
  if (!from.prefix) problems.push('the current topic prefix is empty: its consumer groups cannot be told from others');
  if (!(Number.isInteger(to.partitions) && to.partitions > 0)) problems.push(`the partition count must be a positive integer, not ${to.partitions}`);
  if (problems.length) throw new RepartitionRefused(problems);
  const target: Settings = { ...s, topics: { ...s.topics, prefix: to.prefix, partitions: to.partitions } };
  const sourceNames = TOPICS.map((t) => topicName(from.prefix, t.name));
  const targetNames = TOPICS.map((t) => topicName(to.prefix, t.name));
  const quietOptions = { prefix: from.prefix, ...(o.notDeployed ? { notDeployed: o.notDeployed } : {}) };

  const preflight = await withAdmin(s.kafka.brokers, async (admin) => {
    const existing = new Set(await retryRetriable('listing topics', () => admin.listTopics()));
    const missing = sourceNames.filter((n) => !existing.has(n));
    if (missing.length) return { problems: [`the source topics do not exist: ${missing.join(', ')} (is the prefix ${from.prefix} right?)`] };
    const metadata = await retryRetriable('reading topic metadata', () => admin.fetchTopicMetadata({ topics: sourceNames }));
    const sourcePartitions = metadata.topics.find((t) => t.name === topicName(from.prefix, 'signaling-events'))?.partitions.length;
    const found: string[] = [];
    if (sourcePartitions !== from.partitions)
      found.push(`the source topics have ${sourcePartitions} subscriber partitions, the settings say ${from.partitions} (PRESENCE_PARTITIONS)`);
    const targetExisting = targetNames.filter((n) => existing.has(n));
    if (targetExisting.length) {
      const targetMetadata = await retryRetriable('reading topic metadata', () => admin.fetchTopicMetadata({ topics: targetExisting }));
      for (const spec of TOPICS as readonly TopicSpec[]) {
        const have = targetMetadata.topics.find((t) => t.name === topicName(to.prefix, spec.name))?.partitions.length;
        if (have !== undefined && have !== partitionsOf(spec, to.partitions))
          found.push(
            `the target topic ${topicName(to.prefix, spec.name)} exists with ${have} partitions, not ${partitionsOf(spec, to.partitions)}: delete it or choose that count`,
          );
      }
      const ends = await topicEnds(admin, targetExisting);
      const holding = [...ends].filter(([, parts]) => [...parts.values()].some((e) => e > 0)).map(([t]) => t);
      if (holding.length) found.push(`the target topics already hold records: ${holding.join(', ')} (delete the ${to.prefix} topics to start again)`);
    }
    const quiet = await checkQuiescence(admin, s.kafka.brokers, sourceNames, quietOptions);
    found.push(...quiet.problems);
    const sourceGroups = new Set(quiet.groups.map((g) => g.groupId));
    for (const g of quiet.groups) {
      const renamed = renamedGroup(g.groupId, from.prefix, to.prefix);
      if (renamed && !sourceGroups.has(renamed)) {
        const targetCommitted = targetExisting.length ? await admin.fetchOffsets({ groupId: renamed, topics: targetExisting }) : [];
        if (targetCommitted.some((t) => t.partitions.some((p) => Number(p.offset) >= 0)))
          found.push(`consumer group ${renamed} already has offsets on the target topics`);
        const running = (await describeConsumerGroup(s.kafka.brokers, renamed))?.members.length ?? 0;
        if (running > 0) found.push(`consumer group ${renamed} already has ${running} member(s) under the new prefix: stop them until the move is done`);
      }
    }
    const ends = await topicEnds(admin, sourceNames);
    return { problems: found, groups: quiet.groups, ends };
  });
  if (preflight.problems.length) throw new RepartitionRefused(preflight.problems);
  const { groups, ends } = preflight as { groups: GroupAtRest[]; ends: Map<string, Map<number, number>> };
  const carriedGroups = groups.filter((g) => renamedGroup(g.groupId, from.prefix, to.prefix) !== undefined);
  const report: RepartitionReport = {
    from,
    to,
    copied: [],
    carried: carriedGroups.map((g) => ({ from: g.groupId, to: renamedGroup(g.groupId, from.prefix, to.prefix)!, topics: g.topics.length })),
    notCarried: groups.filter((g) => !carriedGroups.includes(g)).map((g) => g.groupId),
    seconds: 0,
  };
  if (o.checkOnly) {
    report.seconds = (Date.now() - started) / 1000;
    return report;
  }

  try {
    log(`creating the topology under ${to.prefix} with ${to.partitions} subscriber partitions`);
    await applyTopology(target, log);
    for (const spec of copiedTopics()) {
      const source = topicName(from.prefix, spec.name);
      const copy = await copyTopic(s.kafka.brokers, source, topicName(to.prefix, spec.name), ends.get(source)!, {
        clientId: `presence-repartition-${process.pid}`,
        ...(spec.maxMessageBytes !== undefined ? { maxMessageBytes: spec.maxMessageBytes } : {}),
      });
      log(`copied ${copy.records} record(s) of ${source} into ${partitionsOf(spec, to.partitions)} partitions of ${copy.to}`);
      report.copied.push(copy);
    }

    await withAdmin(s.kafka.brokers, async (admin) => {
      // Anything written meanwhile would be missing from the copies, or would have moved a group on.
      const after = await topicEnds(admin, sourceNames);
      const moved = sourceNames.filter((t) => [...ends.get(t)!].some(([p, end]) => after.get(t)?.get(p) !== end));
      const quiet = await checkQuiescence(admin, s.kafka.brokers, sourceNames, quietOptions);
      const changed = [
        ...(moved.length ? [`records were written to ${moved.join(', ')} during the copy: stop the taps, front ends and services writing to them`] : []),
        ...quiet.problems,
      ];
      if (changed.length) throw new RepartitionRefused([...changed, `the copies under ${to.prefix} are incomplete: delete those topics and run again`]);

      const copiedEnds = await topicEnds(admin, targetNames);
      for (const g of carriedGroups) {
        const groupId = renamedGroup(g.groupId, from.prefix, to.prefix)!;
        const offsets = g.topics.flatMap((sourceTopic) => {
          const topic = topicName(to.prefix, sourceTopic.slice(from.prefix.length));
          return [...(copiedEnds.get(topic) ?? new Map<number, number>())].map(([partition, offset]) => ({ topic, partition, offset }));
        });
        await commitGroupOffsets(s.kafka.brokers, groupId, offsets);
        log(`consumer group ${g.groupId} → ${groupId}: positions at the ends of ${g.topics.length} topic(s)`);
      }
    });
  } catch (err) {
    if (err instanceof RepartitionRefused) throw err;
    // Half done: the copies or the carried positions are incomplete, and starting the roles on them would lose state.
    throw new Error(`${(err as Error).message}: the move to ${to.prefix} is incomplete; delete those topics and consumer groups, and run it again`, {
      cause: err,
    });
  }
  report.seconds = (Date.now() - started) / 1000;
  return report;
}

/** A group named under the old prefix, under the new one; undefined for groups outside the prefix. */
export function renamedGroup(groupId: string, fromPrefix: string, toPrefix: string): string | undefined {
  return groupId.startsWith(fromPrefix) ? `${toPrefix}${groupId.slice(fromPrefix.length)}` : undefined;
}
