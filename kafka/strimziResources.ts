// The topology as Strimzi custom resources (`presence topics render --format
// strimzi`): one KafkaTopic per topic, for clusters whose topics are owned by
// the Strimzi topic operator (GitOps) rather than by `presence topics apply`.
// Same partitions, replication and configs as apply; the registry subjects
// are still registered by `topics apply` (or the registry's own tooling).
import type { Settings } from '../config/settings.ts';
import { TOPICS, partitionsOf, topicConfig, topicName } from '../schemas/topology.ts';

export interface KafkaTopicResource {
  apiVersion: 'kafka.strimzi.io/v1beta2';
  kind: 'KafkaTopic';
  metadata: { name: string; namespace?: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: { topicName: string; partitions: number; replicas: number; config: Record<string, string> };
}

/** A Kubernetes object name (RFC 1123 subdomain: lowercase alphanumerics, '-' and '.') for a topic name. */
export function resourceName(topic: string): string {
  const name = topic
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  if (name.length === 0 || name.length > 253) throw new Error(`topic ${topic} gives no valid Kubernetes object name`);
  return name;
}

export function strimziTopics(s: Settings, o: { cluster: string; namespace?: string }): KafkaTopicResource[] {
  return TOPICS.map((t) => {
    const name = topicName(s.topics.prefix, t.name);
    return {
      apiVersion: 'kafka.strimzi.io/v1beta2',
      kind: 'KafkaTopic',
      metadata: {
        name: resourceName(name),
        ...(o.namespace ? { namespace: o.namespace } : {}),
        labels: { 'strimzi.io/cluster': o.cluster, 'app.kubernetes.io/part-of': 'presence-gateway' },
        annotations: { 'presence-gateway/description': t.description, 'presence-gateway/value-schema': t.valueSchema },
      },
      spec: { topicName: name, partitions: partitionsOf(t, s.topics.partitions), replicas: s.topics.replicationFactor, config: topicConfig(t) },
    };
  });
}
