// The event service's reader of service-events (read committed: only what the
// deriver's transactions and publishers committed), in its consumer group. Each
// batch is logged — events and their recipients — in one database transaction,
// then its offsets are committed. A crash in between re-reads the batch, and the
// log keeps one row per event id, so every event is logged once. The database
// down: the batch is kept and retried (nothing committed meanwhile). A record
// that does not decode is dead-lettered.
import Kafka from 'node-rdkafka';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Settings } from '../../config/settings.ts';
import { routeClientLog } from '../../kafka/clientLog.ts';
import { deadLetter } from '../../kafka/deadLetters.ts';
import { isOutage } from '../../kafka/errorClass.ts';
import { consumerConfig, consumerTopicConfig } from '../../kafka/rdkafkaConfig.ts';
import { consumeOrRetry } from '../../kafka/assignedConsumer.ts';
import { asError, connectConsumer, disconnect, type Consumer, type Message } from '../../kafka/rdkafkaPromises.ts';
import type { RecordProducer } from '../../kafka/recordProducer.ts';
import { serviceEventJson, type ServiceEventJson } from '../../schemas/serviceEventCatalogue.ts';
import type { RecordSerde } from '../../schemas/serde.ts';
import { topicName } from '../../schemas/topology.ts';
import type { EventStore } from './eventStore.ts';
import type { ContactListMembers, Registration } from './serviceRegistration.ts';

export const EVENT_SERVICE_GROUP = 'presence-event-service';
const COMPONENT = 'event-service';

export interface IngestStats {
  consumed: number;
  logged: number;
  duplicates: number;
  recipients: number;
  deadLetters: number;
  /** Batches the database did not take (retried). */
  failures: number;
}

export class EventIngest {
  readonly stats: IngestStats = { consumed: 0, logged: 0, duplicates: 0, recipients: 0, deadLetters: 0, failures: 0 };
  private running = false;
  private loop: Promise<void> | undefined;

  private constructor(
    private readonly consumer: Consumer,
    private readonly serde: RecordSerde,
    private readonly producer: RecordProducer,
    private readonly store: EventStore,
    private readonly deadLetterTopic: string,
    private readonly onLogged: () => void,
    private readonly contactLists: ((regs: readonly Registration[]) => Promise<ContactListMembers>) | undefined,
    private readonly log?: (line: string) => void,
  ) {}

  static async start(
    s: Settings,
    o: {
      store: EventStore;
      serde: RecordSerde;
      producer: RecordProducer;
      clientId: string;
      groupId?: string;
      onLogged: () => void;
      /** Members of the contact lists registrations subscribe by (contactLists.ts). */
      contactLists?: (regs: readonly Registration[]) => Promise<ContactListMembers>;
      log?: (line: string) => void;
    },
  ): Promise<EventIngest> {
    const consumer: Consumer = new Kafka.KafkaConsumer(
      consumerConfig(
        { brokers: s.kafka.brokers, clientId: o.clientId },
        { groupId: o.groupId ?? `${s.topics.prefix}${EVENT_SERVICE_GROUP}`, protocol: 'consumer' },
      ),
      consumerTopicConfig,
    );
    routeClientLog(consumer, o.clientId);
    await connectConsumer(consumer).catch((e) => {
      throw new Error(`event service could not connect to Kafka at ${s.kafka.brokers}: ${asError(e).message}`);
    });
    const ingest = new EventIngest(consumer, o.serde, o.producer, o.store, topicName(s.topics.prefix, 'dead-letters'), o.onLogged, o.contactLists, o.log);
    consumer.setDefaultConsumeTimeout(200);
    consumer.subscribe([topicName(s.topics.prefix, 'service-events')]);
    ingest.running = true;
    ingest.loop = ingest.run();
    ingest.loop.catch(() => {});
    return ingest;
  }

  done(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  private async run(): Promise<void> {
    while (this.running) {
      const batch = await consumeOrRetry(this.consumer, 500, {
        running: () => this.running,
        retryMs: 1000,
        onError: (err) => this.log?.(`reading service-events failed, retrying: ${err.message}`),
      });
      if (batch.length === 0) continue;
      for (let delay = 500; this.running; delay = Math.min(delay * 2, 10_000)) {
        try {
          await this.apply(batch);
          break;
        } catch (err) {
          this.stats.failures++;
          this.log?.(`logging ${batch.length} service event(s) failed, retrying in ${delay} ms: ${asError(err).message}`);
          await sleep(delay);
        }
      }
    }
  }

  private async apply(batch: Message[]): Promise<void> {
    const events: ServiceEventJson[] = [];
    for (const m of batch) {
      const origin = `${m.topic}[${m.partition}]@${m.offset}`;
      try {
        if (!m.value || m.value.length === 0) throw new Error('empty value');
        events.push(serviceEventJson(await this.serde.decode('service-events', m.value)));
      } catch (err) {
        if (isOutage(err)) throw err; // the registry did not answer: the batch is retried
        const key = m.key === undefined || m.key === null ? undefined : String(m.key);
        const dl = deadLetter(
          COMPONENT,
          'avro',
          'malformed',
          `undecodable ServiceEvent: ${asError(err).message}`,
          m.value ?? Buffer.alloc(0),
          origin,
          key ? { key } : {},
        );
        await this.producer.send(this.deadLetterTopic, COMPONENT, this.serde.encode('dead-letters', dl));
        this.stats.deadLetters++;
      }
    }
    const r = await this.store.logEvents(events, this.contactLists);
    const next = new Map<string, { topic: string; partition: number; offset: number }>();
    for (const m of batch) next.set(`${m.topic}\u0000${m.partition}`, { topic: m.topic, partition: m.partition, offset: m.offset + 1 });
    try {
      this.consumer.commitSync([...next.values()]);
    } catch (err) {
      // Not fatal: a re-read batch is absorbed by the event id.
      this.log?.(`commit failed: ${asError(err).message}`);
    }
    this.stats.consumed += batch.length;
    this.stats.logged += r.logged;
    this.stats.duplicates += events.length - r.logged;
    this.stats.recipients += r.recipients;
    if (r.recipients > 0) this.onLogged();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.loop?.catch(() => {});
    await disconnect(this.consumer);
  }
}
