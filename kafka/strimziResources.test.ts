import { describe, expect, it } from 'vitest';
import { loadSettings } from '../config/settings.ts';
import { TOPICS, partitionsOf, topicConfig } from '../schemas/topology.ts';
import { resourceName, strimziTopics } from './strimziResources.ts';

const base = loadSettings({});
const s = { ...base, topics: { prefix: 'Prod_Presence.', partitions: 48, replicationFactor: 3 } };

describe('Strimzi KafkaTopic resources', () => {
  it('declare every topic with the partitions, replication and configs topics apply would give it', () => {
    const res = strimziTopics(s, { cluster: 'kafka-a', namespace: 'telco' });
    expect(res).toHaveLength(TOPICS.length);
    for (const [i, t] of TOPICS.entries()) {
      const r = res[i]!;
      expect(r.spec).toEqual({ topicName: `Prod_Presence.${t.name}`, partitions: partitionsOf(t, 48), replicas: 3, config: topicConfig(t) });
      expect(r.metadata.labels['strimzi.io/cluster']).toBe('kafka-a');
      expect(r.metadata.namespace).toBe('telco');
      expect(r.metadata.name).toMatch(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/);
    }
    // Subscriber topics stay co-partitioned.
    expect(new Set(res.filter((_, i) => TOPICS[i]!.partitions === 'subscriber').map((r) => r.spec.partitions))).toEqual(new Set([48]));
  });

  it('names each resource validly and distinctly even when the topic name is not a valid object name', () => {
    expect(resourceName('Prod_Presence.signaling-events')).toBe('prod-presence.signaling-events');
    const names = strimziTopics(s, { cluster: 'c' }).map((r) => r.metadata.name);
    expect(new Set(names).size).toBe(names.length);
    expect(() => resourceName('___')).toThrow(/no valid Kubernetes object name/);
  });
});
