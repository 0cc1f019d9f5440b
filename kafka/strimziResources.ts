// The topology as Strimzi custom resources (`presence topics render --format
// strimzi`): one KafkaTopic per topic, for clusters whose topics are owned by
// the Strimzi topic operator (GitOps) rather than by `presence topics apply`,
// and one KafkaUser per role with the ACLs it needs (schemas/roleAccess.ts).
// Same partitions, replication and configs as apply; the registry subjects
// are still registered by `topics apply` (or the registry's own tooling).
import type { Settings } from '../config/settings.ts';
import { TOPICS, partitionsOf, topicConfig, topicName } from '../schemas/topology.ts';
import { ROLE_ACCESS, type RoleAccess } from '../schemas/roleAccess.ts';

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

export type AclOperation = 'Read' | 'Write' | 'Describe' | 'AlterConfigs' | 'IdempotentWrite';
export interface KafkaUserAcl {
  resource: { type: 'topic' | 'group' | 'transactionalId'; name: string; patternType: 'literal' | 'prefix' } | { type: 'cluster' };
  operations: AclOperation[];
  host: '*';
}

export interface KafkaUserResource {
  apiVersion: 'kafka.strimzi.io/v1beta2';
  kind: 'KafkaUser';
  metadata: { name: string; namespace?: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: { authentication: { type: 'scram-sha-512' | 'tls' }; authorization: { type: 'simple'; acls: KafkaUserAcl[] } };
}

/**
 * One KafkaUser per role with the ACLs its clients need (schemas/roleAccess.ts):
 * Read+Describe on the topics it consumes, Write+Describe on those it produces,
 * Read+Describe on its consumer groups (commits, and KIP-447 fencing of its
 * transactions) and AlterConfigs on them (its session timeout), Write+Describe on its transactional ids, and IdempotentWrite on the
 * cluster for producers (every producer of ours is idempotent; brokers before 3.0 ask for it).
 */
export function strimziUsers(
  s: Settings,
  o: { cluster: string; namespace?: string; authentication?: 'scram-sha-512' | 'tls'; roles?: readonly RoleAccess[] },
): KafkaUserResource[] {
  const prefix = s.topics.prefix;
  const acl = (resource: KafkaUserAcl['resource'], operations: AclOperation[]): KafkaUserAcl => ({ resource, operations, host: '*' });
  return (o.roles ?? ROLE_ACCESS).map((r) => {
    const acls: KafkaUserAcl[] = [];
    const both = new Set(r.reads.filter((t) => r.writes.includes(t)));
    for (const t of new Set([...r.reads, ...r.writes]))
      acls.push(
        acl(
          { type: 'topic', name: topicName(prefix, t), patternType: 'literal' },
          both.has(t) ? ['Read', 'Write', 'Describe'] : r.writes.includes(t) ? ['Write', 'Describe'] : ['Read', 'Describe'],
        ),
      );
    for (const t of new Set(r.describesTopics ?? []))
      if (!r.reads.includes(t) && !r.writes.includes(t)) acls.push(acl({ type: 'topic', name: topicName(prefix, t), patternType: 'literal' }, ['Describe']));
    // AlterConfigs: a member sets its group's session timeout and heartbeat interval (KIP-848 group configs, kafka/groupSession.ts).
    // A prefix: the member's changelog restorer has a group id of its own that starts with the group's (kafka/changelogRestorer.ts).
    for (const g of r.groups ?? []) acls.push(acl({ type: 'group', name: `${prefix}${g}`, patternType: 'prefix' }, ['Read', 'Describe', 'AlterConfigs']));
    for (const g of r.groupPrefixes ?? []) acls.push(acl({ type: 'group', name: g, patternType: 'prefix' }, ['Read', 'Describe']));
    for (const g of r.readerGroups ?? []) acls.push(acl({ type: 'group', name: `${prefix}${g}`, patternType: 'prefix' }, ['Read', 'Describe']));
    for (const g of r.describesGroups ?? []) acls.push(acl({ type: 'group', name: `${prefix}${g}`, patternType: 'literal' }, ['Describe']));
    for (const id of r.transactionalIdPrefixes ?? [])
      acls.push(acl({ type: 'transactionalId', name: `${prefix}${id}`, patternType: 'prefix' }, ['Write', 'Describe']));
    if (r.writes.length) acls.push(acl({ type: 'cluster' }, ['IdempotentWrite']));
    return {
      apiVersion: 'kafka.strimzi.io/v1beta2',
      kind: 'KafkaUser',
      metadata: {
        name: resourceName(`${prefix}${r.role}`),
        ...(o.namespace ? { namespace: o.namespace } : {}),
        labels: { 'strimzi.io/cluster': o.cluster, 'app.kubernetes.io/part-of': 'presence-gateway', 'app.kubernetes.io/component': r.role },
        annotations: { 'presence-gateway/commands': r.commands.join(', ') },
      },
      spec: { authentication: { type: o.authentication ?? 'scram-sha-512' }, authorization: { type: 'simple', acls } },
    };
  });
}
