// `presence run event-manager`: a member of the event-manager consumer group.
// It owns the partitions (and so the subscribers) the group assigns it and
// turns their signaling events into notify requests, exactly once.
import os from 'node:os';
import type { Settings } from '../../config/settings.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { topicName } from '../../schemas/topology.ts';
import { deadLetter } from '../runtime/deadLetters.ts';
import { TransactionalProcessor, type InputRecord, type OutputRecord } from '../runtime/transactionalProcessor.ts';
import { skeletonNotify } from './skeletonNotify.ts';

export const EVENT_MANAGER_GROUP = 'presence-event-managers';

export interface EventManagerOptions {
  memberId?: string;
  groupId?: string;
  protocol?: 'classic' | 'consumer';
  /** Static membership id (group.instance.id). */
  instanceId?: string;
  log?: (line: string) => void;
  /** Test hook: called before each batch is processed; throwing aborts the transaction. */
  beforeBatch?: (batch: InputRecord[]) => void;
}

export async function startEventManager(s: Settings, o: EventManagerOptions = {}): Promise<TransactionalProcessor> {
  const memberId = o.memberId ?? `${os.hostname()}-${process.pid}`;
  const serde = new RecordSerde(s.registry.url, s.topics.prefix);
  await serde.loadIds();
  const signaling = topicName(s.topics.prefix, 'signaling-events');
  const notifyTopic = topicName(s.topics.prefix, 'notify-requests');
  const deadTopic = topicName(s.topics.prefix, 'dead-letters');

  const processor = new TransactionalProcessor({
    brokers: s.kafka.brokers,
    clientId: `event-manager-${memberId}`,
    groupId: o.groupId ?? `${s.topics.prefix}${EVENT_MANAGER_GROUP}`,
    protocol: o.protocol,
    instanceId: o.instanceId,
    inputTopics: [signaling],
    transactionalId: `${s.topics.prefix}event-manager-${memberId}`,
    log: o.log,
    process: async (batch) => {
      o.beforeBatch?.(batch);
      const out: OutputRecord[] = [];
      for (const r of batch) {
        const origin = `${r.topic}[${r.partition}]@${r.offset}`;
        try {
          if (!r.value) throw new Error('empty value');
          const event = await serde.decode('signaling-events', r.value);
          const notify = skeletonNotify(event, r.offset + 1, Date.now());
          out.push({ topic: notifyTopic, key: event.subscriber, value: serde.encode('notify-requests', notify) });
        } catch (err) {
          out.push({
            topic: deadTopic,
            key: 'event-manager',
            value: serde.encode('dead-letters', deadLetter('event-manager', 'avro', 'malformed', (err as Error).message, r.value ?? Buffer.alloc(0), origin, { key: r.key ?? '' })),
          });
        }
      }
      return out;
    },
  });
  await processor.start();
  return processor;
}
