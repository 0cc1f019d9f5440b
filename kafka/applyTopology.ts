// Makes the cluster and the registry match schemas/topology.ts: creates
// missing topics, sets the config keys we own that drifted (and no others,
// incrementally), registers value schemas with BACKWARD compatibility.
// Idempotent; never deletes data.
import type { Admin, ITopicConfig } from 'kafkajs';
import kafkajs from 'kafkajs';
import type { Settings } from '../config/settings.ts';
import { createTopicsAndWait, retryRetriable, withAdmin } from './kafkaAdmin.ts';
import { incrementalAlterTopicConfigs, type TopicConfigChange } from './incrementalAlterConfigs.ts';
import { RecordSerde } from '../schemas/serde.ts';

// kafkajs is CommonJS: its enums come through the default export under ESM.
const { ConfigResourceTypes } = kafkajs;
import { TOPICS, partitionsOf, topicConfig, topicName, type TopicSpec } from '../schemas/topology.ts';

export interface TopicChange {
  topic: string;
  action: 'created' | 'config updated' | 'unchanged';
  partitions: number;
  details?: string;
}

async function currentConfigs(admin: Admin, topics: string[]): Promise<Map<string, Map<string, string>>> {
  const out = new Map<string, Map<string, string>>();
  if (topics.length === 0) return out;
  const res = await retryRetriable('describing topic configs', () =>
    admin.describeConfigs({
      includeSynonyms: false,
      resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
    }),
  );
  for (const r of res.resources) {
    out.set(r.resourceName, new Map(r.configEntries.map((e) => [e.configName, e.configValue])));
  }
  return out;
}

export async function applyTopics(s: Settings, log: (line: string) => void = () => {}): Promise<TopicChange[]> {
  return withAdmin(s.kafka.brokers, async (admin) => {
    const existing = new Set(await retryRetriable('listing topics', () => admin.listTopics()));
    const ours = TOPICS.map((t) => topicName(s.topics.prefix, t.name)).filter((n) => existing.has(n));
    // An empty list makes kafkajs fetch every topic in the cluster, which fails
    // when another prefix's topics are being deleted at that moment.
    const metadata = ours.length > 0 ? await retryRetriable('reading topic metadata', () => admin.fetchTopicMetadata({ topics: ours })) : { topics: [] };
    const partitionsNow = new Map(metadata.topics.map((t) => [t.name, t.partitions.length]));
    const configs = await currentConfigs(admin, [...partitionsNow.keys()]);
    const changes: TopicChange[] = [];
    const toCreate: ITopicConfig[] = [];
    const toAlter: TopicConfigChange[] = [];

    for (const spec of TOPICS as readonly TopicSpec[]) {
      const name = topicName(s.topics.prefix, spec.name);
      const wanted = partitionsOf(spec, s.topics.partitions);
      const cfg = topicConfig(spec);
      const have = partitionsNow.get(name);
      if (have === undefined) {
        toCreate.push({
          topic: name,
          numPartitions: wanted,
          replicationFactor: s.topics.replicationFactor,
          configEntries: Object.entries(cfg).map(([n, value]) => ({ name: n, value })),
        });
        changes.push({ topic: name, action: 'created', partitions: wanted });
        continue;
      }
      if (have !== wanted) {
        // Changing the count re-maps keys to partitions, which would split a
        // subscriber's history and state across event managers.
        throw new Error(
          `topic ${name} has ${have} partitions but the topology wants ${wanted}; changing it would move subscribers between partitions without their state. ` +
            `Set PRESENCE_PARTITIONS=${have} to match, or move to new topics with \`presence topics repartition\`.`,
        );
      }
      const current = configs.get(name) ?? new Map();
      const drift = Object.entries(cfg).filter(([k, v]) => current.get(k) !== v);
      if (drift.length > 0) {
        toAlter.push({ topic: name, set: Object.fromEntries(drift) });
        changes.push({ topic: name, action: 'config updated', partitions: have, details: drift.map(([k, v]) => `${k}=${v}`).join(', ') });
      } else {
        changes.push({ topic: name, action: 'unchanged', partitions: have });
      }
    }
    // Only the drifted keys we own, incrementally: an operator's own settings
    // on our topics (a larger max.message.bytes, min.insync.replicas) stay.
    await retryRetriable(`updating the config of ${toAlter.map((c) => c.topic).join(', ')}`, () => incrementalAlterTopicConfigs(s.kafka.brokers, toAlter));
    if (toCreate.length > 0) {
      log(`creating ${toCreate.length} topic(s)`);
      // Bounded wait for every new partition's leader: a KRaft broker answers
      // UNKNOWN_TOPIC_OR_PARTITION for a moment after CreateTopics returns.
      await createTopicsAndWait(admin, toCreate);
    }
    return changes;
  });
}

/** Topics and schemas together: what `presence topics apply` does. */
export async function applyTopology(s: Settings, log: (line: string) => void = () => {}): Promise<{ topics: TopicChange[]; subjects: Map<string, number> }> {
  const topics = await applyTopics(s, log);
  for (const t of topics) log(`topic ${t.topic}: ${t.action} (${t.partitions} partitions)${t.details ? ` ${t.details}` : ''}`);
  const serde = new RecordSerde(s.registry.url, s.topics.prefix);
  const subjects = await serde.registerAll((subject, id) => log(`schema ${subject}: id ${id} (BACKWARD)`));
  return { topics, subjects };
}
