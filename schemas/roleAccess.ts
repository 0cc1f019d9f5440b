// What each role of the gateway does on Kafka, beside the topology (topology.ts):
// the topics it reads and writes, the consumer groups it joins or describes,
// and the transactional ids it owns. `presence topics render --format strimzi`
// turns it into KafkaUser resources with exactly those ACLs
// (kafka/strimziResources.ts); roleAccess.test.ts checks each role's code uses
// no topic its ACLs leave out. Names are logical: the topic prefix is added when
// rendered, as for topics.
import type { TopicName } from './topology.ts';

export interface RoleAccess {
  /** KafkaUser name suffix (`presence-<role>`) and the commands that run as it. */
  role: string;
  commands: string[];
  /** Consumed (Read, Describe). */
  reads: TopicName[];
  /** Produced (Write, Describe). */
  writes: TopicName[];
  /** Consumer groups joined, committed to or fenced by (Read, Describe): `<topic prefix><name>`. */
  groups?: string[];
  /** Group-name prefixes of assign-only readers that never commit (Read, Describe, prefix pattern); not under the topic prefix. */
  groupPrefixes?: string[];
  /**
   * Group-name prefixes, under the topic prefix, of its assign-only readers (compacted-topic mirrors,
   * reply readers): never joined nor committed, but librdkafka's consumer needs a group id and asks
   * for its coordinator, which an authorizer checks (Read, Describe, prefix pattern).
   */
  readerGroups?: string[];
  /** Groups only described (lag shown): Describe. */
  describesGroups?: string[];
  /** Topics only described (their ends, for a group's lag): Describe. */
  describesTopics?: TopicName[];
  /** Transactional id prefixes (`<topic prefix><prefix>`; Write, Describe). */
  transactionalIdPrefixes?: string[];
}

/** The SIP edge: SUBSCRIBE / PUBLISH recorded, PUBLISH answers read back, group URIs mirrored, owners' contacts for redirect/proxy. */
const SIP_EDGE = {
  reads: ['publish-responses', 'groups', 'event-manager-members'] as TopicName[],
  writes: ['subscriptions', 'publish-requests', 'group-subscriptions'] as TopicName[],
  // front-end/groupRoutes.ts, front-end/publishReplies.ts, coordinator/memberReportsReader.ts (redirect and proxy modes).
  readerGroups: ['sip-front-groups-', 'sip-front-replies-', 'member-reports-'],
};

/** What the event managers consume: their inputs, their store's changelog and the SIP edge's reads. */
const EVENT_MANAGER_READS: TopicName[] = [
  'signaling-events',
  'subscriptions',
  'delivery-reports',
  'publish-requests',
  'availability-profiles',
  'watcher-consents',
  // Tombstones: a deleted subscriber's watchers are told noresource.
  'directory-changes',
  'event-manager-presence-store-changelog',
  'event-manager-members',
  ...SIP_EDGE.reads,
];

export const ROLE_ACCESS: readonly RoleAccess[] = [
  {
    role: 'tap',
    commands: ['tap hep', 'replay', 'generate --to-kafka', 'demo'],
    reads: [],
    writes: ['signaling-events', 'dead-letters'],
    // The taps' publisher writes in transactions (taps/signalingPublisher.ts tapTransactionalId).
    transactionalIdPrefixes: ['tap-'],
  },
  {
    role: 'event-manager',
    commands: ['run event-manager (with --sip-port its embedded SIP front end too)'],
    reads: EVENT_MANAGER_READS,
    writes: [
      'current-presence',
      'notify-requests',
      'publish-responses',
      'event-manager-presence-store-changelog',
      'event-manager-members',
      'dead-letters',
      'location-requests',
      ...SIP_EDGE.writes,
    ],
    groups: ['presence-event-managers'],
    // tap-: the reg-event agent's publisher (memberRegEvent.ts), transactional as the taps'; sip-front-: its embedded SIP front end's.
    transactionalIdPrefixes: ['event-manager-', 'tap-', 'sip-front-'],
    readerGroups: SIP_EDGE.readerGroups,
  },
  {
    // Le: asks the GMLC (MLP) what the event managers request; answers are network facts like the taps'.
    role: 'location-agent',
    commands: ['run location-agent'],
    reads: ['location-requests'],
    writes: ['signaling-events', 'dead-letters'],
    groups: ['presence-location-agent'],
    // Positions are written in transactions (kafka/transactionalRecordWriter.ts), as the taps' events.
    transactionalIdPrefixes: ['location-agent-'],
  },
  {
    role: 'sip-front',
    commands: ['run sip-front'],
    reads: SIP_EDGE.reads,
    // signaling-events: a messaging system's message-summary PUBLISH becomes the record the HTTP publish writes.
    writes: [...SIP_EDGE.writes, 'signaling-events'],
    // Its records are written in transactions (front-end/sipFrontEnd.ts), read exactly once by the event managers.
    transactionalIdPrefixes: ['sip-front-'],
    readerGroups: SIP_EDGE.readerGroups,
  },
  {
    role: 'notify-sink',
    commands: ['run notify-sink'],
    reads: ['notify-requests'],
    writes: ['delivery-reports', 'group-delivery-reports', 'dead-letters'],
    groups: ['notify-sink'],
    // Reports are written in transactions (kafka/transactionalRecordWriter.ts), read exactly once by the event managers.
    transactionalIdPrefixes: ['notify-sink-'],
  },
  {
    role: 'group-presence',
    commands: ['run group-presence'],
    reads: [
      'groups',
      'group-subscriptions',
      'group-member-presence',
      'group-delivery-reports',
      'group-presence-store-changelog',
      'current-presence',
      'group-memberships',
      'group-membership-store-changelog',
      // Tombstones: deleted subscribers leave their groups.
      'directory-changes',
    ],
    writes: [
      'notify-requests',
      'group-presence',
      'group-memberships',
      'group-member-presence',
      'group-presence-store-changelog',
      'group-membership-store-changelog',
      'dead-letters',
    ],
    groups: ['presence-group-presence', 'presence-group-membership'],
    transactionalIdPrefixes: ['group-presence-', 'group-membership-'],
  },
  {
    role: 'group-service',
    commands: ['run group-service'],
    reads: [],
    writes: ['groups'],
    // Written in transactions (kafka/transactionalRecordWriter.ts): the group presence processors read exactly once.
    transactionalIdPrefixes: ['group-service-'],
  },
  {
    // Profiles over HTTP, every committed change to the owning event manager through the outbox; a presentity's approve/deny of a watcher (issue 16.4) too.
    role: 'availability-service',
    commands: ['run availability-service'],
    reads: [],
    writes: ['availability-profiles', 'watcher-consents', 'signaling-events'],
    // Every write is transactional (kafka/transactionalRecordWriter.ts): the event managers read them exactly once.
    transactionalIdPrefixes: ['availability-service-'],
  },
  {
    role: 'group-presence-api',
    commands: ['run group-presence-api'],
    reads: ['group-presence'],
    writes: ['dead-letters'],
    groups: ['group-presence-sink'],
  },
  {
    role: 'locator',
    commands: ['run locator', 'locate', 'watchers'],
    reads: ['event-manager-members', 'current-presence'],
    writes: [],
    groupPrefixes: ['locate-'],
    readerGroups: ['member-reports-'],
  },
  {
    role: 'console',
    commands: ['run console'],
    reads: [
      'signaling-events',
      'current-presence',
      'notify-requests',
      'delivery-reports',
      'dead-letters',
      'event-manager-members',
      'event-manager-presence-store-changelog',
      'groups',
      'group-presence',
    ],
    // `--manage`: a replay from the page publishes as a tap does.
    writes: ['signaling-events', 'dead-letters'],
    transactionalIdPrefixes: ['tap-'],
    groupPrefixes: ['presence-console-'],
    describesGroups: ['presence-event-managers'],
    // The event managers' lag: their group's offsets against the ends of every topic they consume.
    describesTopics: EVENT_MANAGER_READS,
  },
  {
    // Issue 17: service events from signaling, presence and profile changes, exactly once.
    role: 'event-deriver',
    commands: ['run event-deriver'],
    reads: ['signaling-events', 'current-presence', 'availability-profiles', 'service-event-deriver-store-changelog'],
    writes: ['service-events', 'service-event-deriver-store-changelog', 'dead-letters'],
    groups: ['presence-event-deriver'],
    transactionalIdPrefixes: ['event-deriver-'],
  },
  {
    // Issue 17: registrations, the event log, push and pull; services' own publishes go to service-events.
    role: 'event-service',
    commands: ['run event-service'],
    reads: ['service-events'],
    writes: ['service-events', 'dead-letters'],
    groups: ['presence-event-service'],
  },
];
