// The service-event deriver (`presence run event-deriver`, issue 17 part 1):
// signaling-events, current-presence and availability-profiles in (read
// committed, co-partitioned by subscriber), service-events out, exactly once —
// each batch's events, its store writes (the subscriber's open calls, last
// registration state; changelog service-event-deriver-store-changelog) and its
// input offsets in one transaction (kafka/transactionalProcessor.ts). The pure
// steps are in serviceEventDerivation.ts. Bad input is dead-lettered by reason;
// an outage aborts the batch, which is re-read.
import type { Settings } from '../../config/settings.ts';
import type { ServiceEvent, ServiceEventDeriverState } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { topicName, type TopicName } from '../../schemas/topology.ts';
import { deadLetterForFailure } from '../../kafka/deadLetters.ts';
import { TransactionalProcessor, type InputRecord, type OutputRecord, type ProcessContext } from '../../kafka/transactionalProcessor.ts';
import { applySignaling, availabilityEvent, isEmptyState, newDeriverState, presenceEvent } from './serviceEventDerivation.ts';

export const EVENT_DERIVER_GROUP = 'presence-event-deriver';
const COMPONENT = 'event-deriver';

export interface EventDeriverStats {
  signaling: number;
  presence: number;
  availability: number;
  /** Service events written, by type. */
  events: Record<string, number>;
  deadLetters: number;
}

export interface EventDeriverOptions {
  memberId: string;
  log?: (line: string) => void;
  /** fetch.wait.max.ms (librdkafka default 500 ms): latency per hop vs idle fetches. */
  fetchWaitMs?: number;
  /** Stop after this long of batches failing on an outage (0: retry on). */
  maxOutageMs?: number;
}

export interface EventDeriver {
  processor: TransactionalProcessor<ServiceEventDeriverState>;
  stats: EventDeriverStats;
  stop(): Promise<void>;
}

export async function startEventDeriver(s: Settings, o: EventDeriverOptions): Promise<EventDeriver> {
  const serde = new RecordSerde(s.registry.url, s.topics.prefix);
  await serde.loadIds();
  const t = (name: TopicName) => topicName(s.topics.prefix, name);
  const topics = { signaling: t('signaling-events'), presence: t('current-presence'), availability: t('availability-profiles') };
  const stats: EventDeriverStats = { signaling: 0, presence: 0, availability: 0, events: {}, deadLetters: 0 };
  const emit = (e: ServiceEvent, out: OutputRecord[]) => {
    // No record timestamp of the event's time (the capture's, for a replay): retention counts from the
    // record's, so an old one would be deleted at once; the record is stamped when written.
    out.push({ topic: t('service-events'), key: e.subject, value: serde.encode('service-events', e) });
    stats.events[e.type] = (stats.events[e.type] ?? 0) + 1;
  };

  const process = async (batch: InputRecord[], ctx: ProcessContext<ServiceEventDeriverState>): Promise<OutputRecord[]> => {
    const out: OutputRecord[] = [];
    for (const r of batch) {
      const origin = `${r.topic}[${r.partition}]@${r.offset}`;
      try {
        if (!r.key) throw new Error('record without a subscriber key');
        if (r.topic === topics.signaling) {
          stats.signaling++;
          if (!r.value) throw new Error('empty value');
          const e = await serde.decode('signaling-events', r.value);
          const store = ctx.store(r.partition);
          const res = applySignaling(store.get(r.key) ?? newDeriverState(r.key), e);
          for (const ev of res.events) emit(ev, out);
          if (isEmptyState(res.state)) {
            if (store.get(r.key)) store.delete(r.key);
          } else store.put(r.key, res.state);
        } else if (r.topic === topics.presence) {
          stats.presence++;
          if (r.value === null) continue; // a removed subscriber: no presence to announce
          emit(presenceEvent(await serde.decode('current-presence', r.value), origin), out);
        } else if (r.topic === topics.availability) {
          stats.availability++;
          if (r.value === null) continue;
          emit(availabilityEvent(await serde.decode('availability-profiles', r.value), origin), out);
        } else throw new Error(`unexpected input topic ${r.topic}`);
      } catch (err) {
        // Only bad input is dead-lettered; a rebalance or an outage aborts the batch (rethrown).
        const letter = deadLetterForFailure(err, COMPONENT, 'service-event-derivation', r, origin);
        stats.deadLetters++;
        out.push({ topic: t('dead-letters'), key: COMPONENT, value: serde.encode('dead-letters', letter) });
      }
    }
    return out;
  };

  const processor = new TransactionalProcessor<ServiceEventDeriverState>({
    brokers: s.kafka.brokers,
    clientId: `event-deriver-${o.memberId}`,
    groupId: `${s.topics.prefix}${EVENT_DERIVER_GROUP}`,
    inputTopics: [topics.signaling, topics.presence, topics.availability],
    transactionalId: `${s.topics.prefix}event-deriver-${o.memberId}`,
    consumerConfig: { 'fetch.wait.max.ms': o.fetchWaitMs ?? 50 },
    maxOutageMs: o.maxOutageMs ?? 0,
    ...(o.log ? { log: o.log } : {}),
    store: {
      changelogTopic: t('service-event-deriver-store-changelog'),
      encode: (st) => serde.encode('service-event-deriver-store-changelog', st),
      decode: (b) => serde.decode('service-event-deriver-store-changelog', b),
    },
    onRestored: (r) =>
      o.log?.(`subscriber partition ${r.partition}: restored ${r.keys} subscribers' open calls from ${r.records} changelog records in ${r.ms} ms`),
    process,
  });
  await processor.start();
  return { processor, stats, stop: () => processor.stop() };
}
