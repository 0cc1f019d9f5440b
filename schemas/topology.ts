// Every topic the system uses, declared once: name, key, value schema,
// partitioning and retention. `presence topics apply` makes the cluster and
// the registry match this table.
//
// Keys are plain UTF-8 strings (not Avro) on purpose: the partition of a key
// is then murmur2(key bytes) in every client — kafkajs, librdkafka with
// partitioner murmur2_random, Java, Kafka Connect's StringConverter — and
// does not depend on a registry's schema id.

export type KeyKind = 'subscriber' | 'group' | 'component';

export interface TopicSpec<N extends string = string> {
  /** Logical name; the Kafka topic is prefix + name. */
  name: N;
  description: string;
  key: KeyKind;
  /** Avro schema file in schemas/avro (record name = file name). */
  valueSchema: string;
  cleanupPolicy: 'delete' | 'compact';
  /** Retention in ms for delete topics; -1 keeps forever. */
  retentionMs: number;
  /** Subscriber-keyed topics share the configured partition count (co-partitioning). */
  partitions: 'subscriber' | number;
}

const DAY = 24 * 60 * 60 * 1000;

export const TOPICS = [
  {
    name: 'signaling-events',
    description: 'decoded SS7/SIP signaling attributed to a subscriber, from the taps',
    key: 'subscriber',
    valueSchema: 'SignalingEvent',
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY,
    partitions: 'subscriber',
  },
  {
    name: 'subscriptions',
    description: 'watchers\' SUBSCRIBE requests, keyed by presentity, from the SIP front ends',
    key: 'subscriber',
    valueSchema: 'Subscription',
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY,
    partitions: 'subscriber',
  },
  {
    name: 'event-manager-presence-store-changelog',
    description: 'changelog of the event managers\' per-subscriber presence store (restored on assignment)',
    key: 'subscriber',
    valueSchema: 'PresenceState',
    cleanupPolicy: 'compact',
    retentionMs: -1,
    partitions: 'subscriber',
  },
  {
    name: 'current-presence',
    description: 'current presence of each subscriber (one record per subscriber)',
    key: 'subscriber',
    valueSchema: 'Presence',
    cleanupPolicy: 'compact',
    retentionMs: -1,
    partitions: 'subscriber',
  },
  {
    name: 'notify-requests',
    description: 'NOTIFYs to send, in dialog order, keyed by presentity',
    key: 'subscriber',
    valueSchema: 'NotifyRequest',
    cleanupPolicy: 'delete',
    retentionMs: 1 * DAY,
    partitions: 'subscriber',
  },
  {
    name: 'delivery-reports',
    description: 'outcome of each NOTIFY delivery, keyed by presentity (ends subscriptions on 481/404/timeout)',
    key: 'subscriber',
    valueSchema: 'DeliveryReport',
    cleanupPolicy: 'delete',
    retentionMs: 3 * DAY,
    partitions: 'subscriber',
  },
  {
    name: 'groups',
    description: 'basic group information (attributes, members, admin policy), keyed by group',
    key: 'group',
    valueSchema: 'Group',
    cleanupPolicy: 'compact',
    retentionMs: -1,
    partitions: 6,
  },
  {
    name: 'group-presence',
    description: 'combined group presence documents, keyed by group',
    key: 'group',
    valueSchema: 'GroupPresence',
    cleanupPolicy: 'compact',
    retentionMs: -1,
    partitions: 6,
  },
  {
    name: 'dead-letters',
    description: 'input that could not be processed, with raw bytes and reason, keyed by component',
    key: 'component',
    valueSchema: 'DeadLetter',
    cleanupPolicy: 'delete',
    retentionMs: 30 * DAY,
    partitions: 3,
  },
] as const satisfies readonly TopicSpec[];

export type TopicName = (typeof TOPICS)[number]['name'];

export function topicSpec(name: TopicName): TopicSpec {
  const spec = TOPICS.find((t) => t.name === name);
  if (!spec) throw new Error(`no topic named ${name} in the topology`);
  return spec;
}

/** The Kafka topic name of a logical topic under a prefix. */
export function topicName(prefix: string, name: string): string {
  return `${prefix}${name}`;
}

/** The registry subject of a topic's values (Confluent TopicNameStrategy). */
export function valueSubject(prefix: string, name: string): string {
  return `${topicName(prefix, name)}-value`;
}

export function partitionsOf(spec: TopicSpec, subscriberPartitions: number): number {
  return spec.partitions === 'subscriber' ? subscriberPartitions : spec.partitions;
}

/** Broker-side topic configuration entries for a spec. */
export function topicConfig(spec: TopicSpec): Record<string, string> {
  const cfg: Record<string, string> = { 'cleanup.policy': spec.cleanupPolicy };
  if (spec.cleanupPolicy === 'delete') cfg['retention.ms'] = String(spec.retentionMs);
  else {
    // Compacted state: let the cleaner catch up reasonably soon, keep tombstones a day.
    cfg['min.cleanable.dirty.ratio'] = '0.1';
    cfg['delete.retention.ms'] = String(DAY);
    cfg['segment.ms'] = String(6 * 60 * 60 * 1000);
  }
  return cfg;
}
