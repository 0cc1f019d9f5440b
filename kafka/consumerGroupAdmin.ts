// KIP-848 group administration kafkajs lacks (it speaks the classic group APIs
// only): who holds what in a consumer-protocol group, releasing a departed
// static member's instance id, and group-level configs (session timeout).
import { WireWriter, wireRequest } from './kafkaWire.ts';

const API = { findCoordinator: 10, incrementalAlterConfigs: 44, consumerGroupHeartbeat: 68, consumerGroupDescribe: 69 } as const;
/** Kafka error codes a caller reacts to. */
export const KAFKA_ERRORS = { none: 0, unknownMemberId: 25, groupIdNotFound: 69, fencedInstanceId: 82, unreleasedInstanceId: 111 } as const;
const RETRIABLE = new Set([14, 15, 16]); // coordinator loading, not available, not coordinator
/** ConsumerGroupHeartbeat epochs: leaving for good, and a static member's "back soon" leave. */
export const LEAVE_EPOCH = -1;
export const STATIC_LEAVE_EPOCH = -2;

export interface GroupMemberView {
  memberId: string;
  instanceId: string | null;
  rackId: string | null;
  memberEpoch: number;
  clientId: string;
  subscribedTopics: string[];
  /** topic → partitions, as the member holds them now. */
  assignment: Map<string, number[]>;
}

export interface GroupView {
  state: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignor: string;
  members: GroupMemberView[];
}

export class KafkaProtocolError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function firstBroker(brokers: string): { host: string; port: number } {
  const first = brokers.split(',')[0]!.trim();
  const i = first.lastIndexOf(':');
  return { host: first.slice(0, i), port: Number(first.slice(i + 1)) };
}

/** The group's coordinator (FindCoordinator v3). */
async function coordinator(brokers: string, groupId: string): Promise<{ host: string; port: number }> {
  const { host, port } = firstBroker(brokers);
  for (let attempt = 0; ; attempt++) {
    const r = await wireRequest(host, port, API.findCoordinator, 3, new WireWriter().compactString(groupId).int8(0).tags().bytes());
    r.int32();
    const code = r.int16();
    const message = r.compactString();
    r.int32();
    const h = r.compactString();
    const p = r.int32();
    if (code === 0 && h) return { host: h, port: p };
    if (!RETRIABLE.has(code) || attempt >= 10) throw new KafkaProtocolError(code, `no coordinator for group ${groupId}: error ${code} ${message ?? ''}`);
    await new Promise((res) => setTimeout(res, 200 * (attempt + 1)));
  }
}

/**
 * Runs a group request again while the coordinator answers a retriable code
 * (14 loading its groups — right after a broker start —, 15 not available, 16
 * moved), looking the coordinator up afresh each time; other errors go to the caller.
 */
async function withCoordinatorRetry<T>(request: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await request();
    } catch (err) {
      if (!(err instanceof KafkaProtocolError) || !RETRIABLE.has(err.code) || attempt >= 20) throw err;
      await new Promise((res) => setTimeout(res, Math.min(200 * (attempt + 1), 2_000)));
    }
  }
}

/** The group as its coordinator sees it; undefined when there is no consumer-protocol group of that id. */
export function describeConsumerGroup(brokers: string, groupId: string): Promise<GroupView | undefined> {
  return withCoordinatorRetry(() => describeOnce(brokers, groupId));
}

async function describeOnce(brokers: string, groupId: string): Promise<GroupView | undefined> {
  const c = await coordinator(brokers, groupId);
  const r = await wireRequest(
    c.host,
    c.port,
    API.consumerGroupDescribe,
    0,
    new WireWriter()
      .array([groupId], (w, g) => w.compactString(g))
      .int8(0)
      .tags()
      .bytes(),
  );
  r.int32();
  const assignment = () => {
    const m = new Map<string, number[]>();
    r.array(() => {
      r.uuid();
      const topic = r.compactString() ?? '';
      m.set(
        topic,
        r.array(() => r.int32()),
      );
      r.tags();
    });
    r.tags();
    return m;
  };
  const groups = r.array(() => {
    const code = r.int16();
    const message = r.compactString();
    r.compactString();
    const state = r.compactString() ?? '';
    const groupEpoch = r.int32();
    const assignmentEpoch = r.int32();
    const assignor = r.compactString() ?? '';
    const members = r.array((): GroupMemberView => {
      const memberId = r.compactString() ?? '';
      const instanceId = r.compactString();
      const rackId = r.compactString();
      const memberEpoch = r.int32();
      const clientId = r.compactString() ?? '';
      r.compactString();
      const subscribedTopics = r.array(() => r.compactString() ?? '');
      r.compactString();
      const held = assignment();
      assignment(); // target assignment
      r.tags();
      return { memberId, instanceId, rackId, memberEpoch, clientId, subscribedTopics, assignment: held };
    });
    r.int32();
    r.tags();
    return { code, message, view: { state, groupEpoch, assignmentEpoch, assignor, members } };
  });
  const g = groups[0];
  if (!g || g.code === KAFKA_ERRORS.groupIdNotFound) return undefined;
  if (g.code !== 0) throw new KafkaProtocolError(g.code, `describing consumer group ${groupId} failed: error ${g.code} ${g.message ?? ''}`);
  return g.view;
}

/**
 * Sends the leave heartbeat a member would send itself, for `memberId` of
 * static instance `instanceId`: STATIC_LEAVE_EPOCH keeps its assignment for
 * the next member with that instance id; LEAVE_EPOCH removes it now.
 */
export function leaveGroupAs(brokers: string, groupId: string, memberId: string, instanceId: string, epoch: number): Promise<void> {
  return withCoordinatorRetry(() => leaveOnce(brokers, groupId, memberId, instanceId, epoch));
}

async function leaveOnce(brokers: string, groupId: string, memberId: string, instanceId: string, epoch: number): Promise<void> {
  const c = await coordinator(brokers, groupId);
  const body = new WireWriter()
    .compactString(groupId)
    .compactString(memberId)
    .int32(epoch)
    .compactString(instanceId)
    .compactString(null) // rack
    .int32(-1) // rebalance timeout
    .array(null, () => {}) // subscribed topics
    .compactString(null) // server assignor
    .array(null, () => {}) // owned partitions
    .tags()
    .bytes();
  const r = await wireRequest(c.host, c.port, API.consumerGroupHeartbeat, 0, body);
  r.int32();
  const code = r.int16();
  const message = r.compactString();
  if (code !== 0) throw new KafkaProtocolError(code, `leaving group ${groupId} as ${instanceId} (${memberId}) failed: error ${code} ${message ?? ''}`);
}

/** Sets group-level configs (IncrementalAlterConfigs v1, resource type GROUP, KIP-848). */
export async function setGroupConfigs(brokers: string, groupId: string, configs: Record<string, string>): Promise<void> {
  const { host, port } = firstBroker(brokers);
  const body = new WireWriter()
    .array([groupId], (w, g) =>
      w
        .int8(32)
        .compactString(g)
        .array(Object.entries(configs), (w2, [k, v]) => w2.compactString(k).int8(0).compactString(v).tags())
        .tags(),
    )
    .int8(0)
    .tags()
    .bytes();
  const r = await wireRequest(host, port, API.incrementalAlterConfigs, 1, body);
  r.int32();
  const results = r.array(() => {
    const code = r.int16();
    const message = r.compactString();
    r.int8();
    r.compactString();
    r.tags();
    return { code, message };
  });
  const bad = results.find((x) => x.code !== 0);
  if (bad)
    throw new KafkaProtocolError(bad.code, `setting ${Object.keys(configs).join(', ')} on group ${groupId} failed: error ${bad.code} ${bad.message ?? ''}`);
}
