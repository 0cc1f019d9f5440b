// Integration tests share the real local stack but not its topics: each test
// file gets its own topic prefix (so its own topics, subjects and groups) and
// removes them afterwards.
import { loadSettings, type Settings } from '../../config/settings.ts';
import { applyTopology } from '../../kafka/applyTopology.ts';
import { TOPICS, topicName, valueSubject } from '../../schemas/topology.ts';
import { withAdmin } from '../../kafka/kafkaAdmin.ts';

export function isolatedSettings(name: string, partitions = 4): Settings {
  const base = loadSettings();
  const prefix = `it-${name}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}.`;
  return { ...base, topics: { ...base.topics, prefix, partitions } };
}

export async function applyIsolated(s: Settings): Promise<void> {
  await applyTopology(s);
}

/** Deletes the prefix's topics and registry subjects. */
export async function cleanupIsolated(s: Settings): Promise<void> {
  await withAdmin(s.kafka.brokers, async (admin) => {
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(s.topics.prefix));
    if (mine.length) await admin.deleteTopics({ topics: mine, timeout: 30_000 });
  }).catch(() => {});
  for (const t of TOPICS) {
    const subject = valueSubject(s.topics.prefix, t.name);
    await fetch(`${s.registry.url}/subjects/${encodeURIComponent(subject)}`, { method: 'DELETE' }).catch(() => {});
    await fetch(`${s.registry.url}/subjects/${encodeURIComponent(subject)}?permanent=true`, { method: 'DELETE' }).catch(() => {});
  }
}

export { topicName };
