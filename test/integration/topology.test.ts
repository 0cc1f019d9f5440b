// `presence topics apply` against the real broker and registry: creates the
// declared topics with their configs and subjects, is idempotent, and refuses
// to change a subscriber topic's partition count.
import { afterAll, describe, expect, it } from 'vitest';
import kafkajs from 'kafkajs';
import { applyTopology } from '../../kafka/applyTopology.ts';
import { TOPICS, partitionsOf, topicName, valueSubject } from '../../schemas/topology.ts';
import { withAdmin } from '../../kafka/kafkaAdmin.ts';
import { cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';

const s = isolatedSettings('topology', 3);
afterAll(() => cleanupIsolated(s));

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
    await withAdmin(s.kafka.brokers, (admin) =>
      admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name, configEntries: [{ name: 'retention.ms', value: '1000' }] }],
      }),
    );
    const res = await applyTopology(s);
    expect(res.topics.find((t) => t.topic === name)!.action).toBe('config updated');
  });

  it('refuses to change the partition count of subscriber-keyed topics', async () => {
    await expect(applyTopology({ ...s, topics: { ...s.topics, partitions: 5 } })).rejects.toThrow(/has 3 partitions but the topology wants 5/);
  });
});
