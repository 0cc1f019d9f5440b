// Every topic the system uses, declared once: name, key, value schema,
// partitioning and retention. `presence topics apply` makes the cluster and
// the registry match this table.
//
// Keys are plain UTF-8 strings (not Avro) on purpose: the partition of a key
// is then murmur2(key bytes) in every client — kafkajs, librdkafka with
// partitioner murmur2_random, Java, Kafka Connect's StringConverter — and
// does not depend on a registry's schema id.

type KeyKind = 'subscriber' | 'group' | 'component';

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
  /** Largest record batch the topic takes (max.message.bytes), when the broker default (1 MiB) is too small. */
  maxMessageBytes?: number;
}

const DAY = 24 * 60 * 60 * 1000;
/** Records of whole groups (documents, state) can be large: 64 MiB. */
export const GROUP_DOCUMENT_MAX_BYTES = 64 * 1024 * 1024;

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
    description: "watchers' SUBSCRIBE requests, keyed by presentity, from the SIP front ends",
    key: 'subscriber',
    valueSchema: 'Subscription',
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY,
    partitions: 'subscriber',
  },
  {
    name: 'availability-profiles',
    description:
      "subscribers' availability profiles after each committed change, from the availability service's outbox, keyed by subscriber (the owning event manager applies them)",
    key: 'subscriber',
    valueSchema: 'AvailabilityProfileChange',
    cleanupPolicy: 'compact',
    retentionMs: -1,
    partitions: 'subscriber',
  },
  {
    name: 'event-manager-presence-store-changelog',
    description: "changelog of the event managers' per-subscriber presence store (restored on assignment)",
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
    name: 'publish-requests',
    description: "handsets' PUBLISHes (RFC 3903, Pe), keyed by presentity, from the SIP front ends to the owning event manager",
    key: 'subscriber',
    valueSchema: 'PublishRequest',
    cleanupPolicy: 'delete',
    retentionMs: 1 * DAY,
    partitions: 'subscriber',
  },
  {
    name: 'publish-responses',
    description: "the owning event manager's answers to PUBLISHes (status, SIP-ETag), keyed by the waiting front end's id",
    key: 'component',
    valueSchema: 'PublishResponse',
    cleanupPolicy: 'delete',
    retentionMs: 1 * DAY,
    partitions: 3,
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
    // A 10,000-member group's document is several MB.
    maxMessageBytes: GROUP_DOCUMENT_MAX_BYTES,
  },
  {
    name: 'group-subscriptions',
    description: "watchers' SUBSCRIBEs to group URIs (presentity group:<id>), keyed by group, from the SIP front ends",
    key: 'group',
    valueSchema: 'Subscription',
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY,
    partitions: 6,
  },
  {
    name: 'group-delivery-reports',
    description: 'outcome of each group NOTIFY delivery, keyed by group (ends group dialogs on 481/404/timeout)',
    key: 'group',
    valueSchema: 'DeliveryReport',
    cleanupPolicy: 'delete',
    retentionMs: 3 * DAY,
    partitions: 6,
  },
  {
    name: 'group-memberships',
    description: "a subscriber joining/leaving a group (diff of groups), keyed by the member's subscriber key (foreign-key join)",
    key: 'subscriber',
    valueSchema: 'GroupMembership',
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY,
    partitions: 'subscriber',
  },
  {
    name: 'group-member-presence',
    description: "a member's current presence for one of its groups (or its leaving), keyed by group",
    key: 'group',
    valueSchema: 'GroupMemberPresence',
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY,
    partitions: 6,
  },
  {
    name: 'group-presence-store-changelog',
    description: "changelog of the group presence processor's per-group store (group info, member presence, group dialogs)",
    key: 'group',
    valueSchema: 'GroupPresenceState',
    cleanupPolicy: 'compact',
    retentionMs: -1,
    partitions: 6,
    maxMessageBytes: GROUP_DOCUMENT_MAX_BYTES,
  },
  {
    name: 'group-membership-store-changelog',
    description: "changelog of the group membership processor's per-subscriber store (its groups, its last presence)",
    key: 'subscriber',
    valueSchema: 'MemberGroupsState',
    cleanupPolicy: 'compact',
    retentionMs: -1,
    partitions: 'subscriber',
  },
  {
    name: 'directory-changes',
    description: 'subscriber directory rows captured from PostgreSQL by Kafka Connect (connectors/kafka-connect), keyed by subscriber',
    key: 'subscriber',
    valueSchema: 'DirectoryChange',
    cleanupPolicy: 'compact',
    retentionMs: -1,
    partitions: 'subscriber',
  },
  {
    name: 'group-member-changes',
    description: 'group_members rows captured from PostgreSQL by Kafka Connect (connectors/kafka-connect), keyed by group',
    key: 'group',
    valueSchema: 'GroupMemberChange',
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY,
    partitions: 6,
  },
  {
    name: 'watcher-consents',
    description: "a presentity's answers to its watchers (approve/deny, issue 16.4), keyed by presentity, to the owning event manager",
    key: 'subscriber',
    valueSchema: 'WatcherConsent',
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY,
    partitions: 'subscriber',
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
  {
    name: 'event-manager-members',
    description: "event managers' self-reports (contact, owned partitions, load), keyed by member id; the locator and the load-aware assignor read it",
    key: 'component',
    valueSchema: 'MemberReport',
    cleanupPolicy: 'compact',
    retentionMs: -1,
    partitions: 3,
  },
  {
    name: 'location-requests',
    description: "the event managers' requests for a subscriber's position, answered by the location agent on signaling-events (Le, MLP)",
    key: 'subscriber',
    valueSchema: 'LocationRequest',
    cleanupPolicy: 'delete',
    retentionMs: DAY,
    partitions: 'subscriber',
  },
  {
    name: 'service-events',
    description:
      'events for services (issue 17: calls offered/answered/missed, presence, availability, registration, SMS, usage gauges, message waiting), keyed by the subject subscriber; from the service-event deriver and HTTP publishers, to the event service',
    key: 'subscriber',
    valueSchema: 'ServiceEvent',
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY,
    partitions: 'subscriber',
  },
  {
    name: 'service-event-deriver-store-changelog',
    description: "changelog of the service-event deriver's per-subscriber store (calls offered and not yet over, last registration state)",
    key: 'subscriber',
    valueSchema: 'ServiceEventDeriverState',
    cleanupPolicy: 'compact',
    retentionMs: -1,
    partitions: 'subscriber',
  },
] as const satisfies readonly TopicSpec[];

export type TopicName = (typeof TOPICS)[number]['name'];

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
  if (spec.maxMessageBytes !== undefined) cfg['max.message.bytes'] = String(spec.maxMessageBytes);
  if (spec.cleanupPolicy === 'delete') cfg['retention.ms'] = String(spec.retentionMs);
  else {
    // Compacted state: let the cleaner catch up reasonably soon, keep tombstones a day.
    cfg['min.cleanable.dirty.ratio'] = '0.1';
    cfg['delete.retention.ms'] = String(DAY);
    cfg['segment.ms'] = String(6 * 60 * 60 * 1000);
  }
  return cfg;
}
