// `presence topics apply` against the real broker and registry: creates the
// declared topics with their configs and subjects, is idempotent, and refuses
// to change a subscriber topic's partition count.
import { afterAll, describe, expect, it } from 'vitest';
import kafkajs from 'kafkajs';
import { applyTopology } from '../../kafka/applyTopology.ts';
import { TOPICS, partitionsOf, topicName, valueSubject } from '../../schemas/topology.ts';
import { withAdmin } from '../../kafka/kafkaAdmin.ts';
import { incrementalAlterTopicConfigs } from '../../kafka/incrementalAlterConfigs.ts';
import { cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';
import { eventually } from '../support/wait.ts';

const s = isolatedSettings('topology', 3);
afterAll(() => cleanupIsolated(s));

type ConfigEntry = { configName: string; configValue: string; isDefault: boolean };

async function topicEntries(name: string): Promise<ConfigEntry[]> {
  const res = await withAdmin(s.kafka.brokers, (admin) =>
    admin.describeConfigs({ includeSynonyms: false, resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name }] }),
  );
  return res.resources[0]!.configEntries;
}

async function topicConfigs(name: string): Promise<Map<string, string>> {
  return new Map((await topicEntries(name)).map((e) => [e.configName, e.configValue]));
}

/**
 * An operator's change as `kafka-configs --alter --add-config` makes it (the
 * topic's other settings kept), seen by the broker before the test goes on: a
 * KRaft broker learns it from the metadata log a moment after the controller.
 */
async function operatorSets(name: string, configs: Record<string, string>): Promise<void> {
  const kept = (await topicEntries(name)).filter((e) => !e.isDefault && !(e.configName in configs)).map((e) => ({ name: e.configName, value: e.configValue }));
  const changed = Object.entries(configs).map(([k, value]) => ({ name: k, value }));
  await withAdmin(s.kafka.brokers, (admin) =>
    admin.alterConfigs({ validateOnly: false, resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name, configEntries: [...kept, ...changed] }] }),
  );
  await eventually(`${name} to show ${JSON.stringify(configs)}`, async () => {
    const cfg = await topicConfigs(name);
    return Object.entries(configs).every(([k, v]) => cfg.get(k) === v);
  });
}

describe('topics apply', () => {
  it('creates every topic with its partitions, cleanup policy and subject, and a second run changes nothing', async () => {
    const first = await applyTopology(s);
    expect(first.topics.every((t) => t.action === 'created')).toBe(true);
    await withAdmin(s.kafka.brokers, async (admin) => {
      const meta = await admin.fetchTopicMetadata({ topics: TOPICS.map((t) => topicName(s.topics.prefix, t.name)) });
      for (const spec of TOPICS) {
        const t = meta.topics.find((m) => m.name === topicName(s.topics.prefix, spec.name))!;
        expect(t.partitions).toHaveLength(partitionsOf(spec, 3));
      }
      const cfg = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topicName(s.topics.prefix, 'current-presence') }],
      });
      const policy = cfg.resources[0]!.configEntries.find((e) => e.configName === 'cleanup.policy')!.configValue;
      expect(policy).toBe('compact');
    });
    for (const spec of TOPICS) {
      const res = await fetch(`${s.registry.url}/subjects/${valueSubject(s.topics.prefix, spec.name)}/versions/latest`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { schema: string };
      expect(JSON.parse(body.schema).name).toBe(spec.valueSchema);
    }
    const second = await applyTopology(s);
    expect(second.topics.every((t) => t.action === 'unchanged')).toBe(true);
    expect([...second.subjects.values()]).toEqual([...first.subjects.values()]);
  });

  it('repairs a drifted topic config', async () => {
    const name = topicName(s.topics.prefix, 'signaling-events');
    await operatorSets(name, { 'retention.ms': '1000' });
    const res = await applyTopology(s);
    expect(res.topics.find((t) => t.topic === name)!.action).toBe('config updated');
  });

  it('repairs our keys only: a setting an operator made on one of our topics survives', async () => {
    const name = topicName(s.topics.prefix, 'signaling-events');
    const week = String(7 * 24 * 3600 * 1000);
    // The operator raises the record size limit; our retention has drifted too.
    await operatorSets(name, { 'max.message.bytes': '2000000', 'retention.ms': '1000' });
    const res = await applyTopology(s);
    expect(res.topics.find((t) => t.topic === name)).toMatchObject({ action: 'config updated', details: `retention.ms=${week}` });
    const now = await eventually('our retention back', async () => {
      const cfg = await topicConfigs(name);
      return cfg.get('retention.ms') === week && cfg;
    });
    expect(now.get('max.message.bytes')).toBe('2000000');
  });

  it("a config change the broker refuses names the topic and Kafka's error", async () => {
    const name = topicName(s.topics.prefix, 'signaling-events');
    await expect(incrementalAlterTopicConfigs(s.kafka.brokers, [{ topic: name, set: { 'retention.ms': 'soon' } }])).rejects.toThrow(
      new RegExp(`altering the config of ${name.replace(/\./g, '\\.')} failed: INVALID_CONFIG`),
    );
  });

  it('refuses to change the partition count of subscriber-keyed topics', async () => {
    await expect(applyTopology({ ...s, topics: { ...s.topics, partitions: 5 } })).rejects.toThrow(/has 3 partitions but the topology wants 5/);
  });
});
