// librdkafka settings shared by every node-rdkafka client of the gateway.
// node-rdkafka carries the data paths: cooperative-sticky rebalancing,
// KIP-848, static membership, and transactions fenced by the consumer group
// (KIP-447) — none of which kafkajs has.
import type { ConsumerGlobalConfig, ConsumerTopicConfig, ProducerGlobalConfig, ProducerTopicConfig } from 'node-rdkafka';
import type { GroupAssignor } from './assignors/groupAssignor.ts';
import { GROUP_SESSION } from './groupSession.ts';
import { rdkafkaSecurity } from './kafkaSecurity.ts';
import { statisticsConfig } from './clientStats.ts';

export interface ClientIdentity {
  brokers: string;
  clientId: string;
}

/**
 * Java's murmur2 partitioner, so every client (Java, kafkajs, Connect) agrees
 * on a key's partition. It is a TOPIC property: node-rdkafka silently ignores
 * it in the global config and keeps librdkafka's CRC32 default (measured).
 */
export const producerTopicConfig: ProducerTopicConfig = { partitioner: 'murmur2_random' };

/** Idempotent producer, acks=all (pass `producerTopicConfig` as the topic config). */
export function producerConfig(c: ClientIdentity, extra: ProducerGlobalConfig = {}): ProducerGlobalConfig {
  return {
    'metadata.broker.list': c.brokers,
    'client.id': c.clientId,
    ...rdkafkaSecurity(),
    'enable.idempotence': true,
    acks: -1,
    'linger.ms': 5,
    'compression.codec': 'lz4',
    'socket.keepalive.enable': true,
    dr_cb: true,
    ...statisticsConfig(),
    ...extra,
  } as ProducerGlobalConfig;
}

/** A transactional producer: one per processing member (fencing is by consumer group metadata, KIP-447). */
export function transactionalProducerConfig(c: ClientIdentity, transactionalId: string, extra: ProducerGlobalConfig = {}): ProducerGlobalConfig {
  return producerConfig(c, { 'transactional.id': transactionalId, 'transaction.timeout.ms': 15_000, ...extra });
}

export interface GroupOptions {
  groupId: string;
  /** Static membership (memberIdentity.ts): a restarted member with the same id gets its partitions back without moving anyone else's (staticMembership.ts). */
  instanceId?: string;
  /** 'consumer' (KIP-848 on Kafka 4: incremental, server-side assignor) or 'classic'. */
  protocol?: 'classic' | 'consumer';
  /**
   * Partition p of every input topic must go to the same member (they share
   * state): the range assignor guarantees that for co-partitioned topics
   * (server-side with KIP-848, client-side and eager with the classic
   * protocol); cooperative-sticky and uniform assign topics independently.
   */
  copartitioned?: boolean;
  /** KIP-848 server-side assignor (group.remote.assignor); default range when copartitioned (assignors/). */
  assignor?: GroupAssignor;
  /** client.rack: the load assignor matches a member to its MemberReports by it (assignors/). */
  rack?: string;
}

export function consumerConfig(c: ClientIdentity, g: GroupOptions, extra: ConsumerGlobalConfig = {}): ConsumerGlobalConfig {
  const base: ConsumerGlobalConfig = {
    'metadata.broker.list': c.brokers,
    'client.id': c.clientId,
    ...rdkafkaSecurity(),
    'group.id': g.groupId,
    'enable.auto.commit': false,
    'enable.auto.offset.store': false,
    'isolation.level': 'read_committed',
    'socket.keepalive.enable': true,
    ...statisticsConfig(),
  } as ConsumerGlobalConfig;
  if ((g.protocol ?? 'consumer') === 'consumer') {
    (base as Record<string, unknown>)['group.protocol'] = 'consumer';
    const assignor = g.assignor ?? (g.copartitioned ? 'range' : undefined);
    if (assignor) (base as Record<string, unknown>)['group.remote.assignor'] = assignor;
  } else {
    // Classic range is client-side and equivalent; the others exist only in the broker.
    if (g.assignor && g.assignor !== 'range')
      throw new Error(`the ${g.assignor} assignor runs in the broker and needs the consumer group protocol (KIP-848), not classic`);
    base['partition.assignment.strategy'] = g.copartitioned ? 'range' : 'cooperative-sticky';
    // Client-side with the classic protocol (groupSession.ts explains the figures).
    base['session.timeout.ms'] = GROUP_SESSION.sessionTimeoutMs;
    base['heartbeat.interval.ms'] = GROUP_SESSION.heartbeatIntervalMs;
  }
  if (g.instanceId) base['group.instance.id'] = g.instanceId;
  if (g.rack) base['client.rack'] = g.rack;
  return { ...base, ...extra };
}

export const consumerTopicConfig: ConsumerTopicConfig = { 'auto.offset.reset': 'earliest' };
