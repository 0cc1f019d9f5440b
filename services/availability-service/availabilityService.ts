// The availability service (issue 16 part 6): the profiles HTTP API over the
// PostgreSQL store, and the outbox relay that carries every committed change to
// the availability-profiles topic (Avro AvailabilityProfileChange records keyed by
// subscriber, co-partitioned with the event managers' inputs), so the owning event
// manager applies it within a second — the group service's pattern (outboxRelay.ts).
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import type { Settings } from '../../config/settings.ts';
import { TransactionalRecordWriter, writerTransactionalId } from '../../kafka/transactionalRecordWriter.ts';
import { BearerTokens } from '../../protocols/http/bearerTokens.ts';
import type { HttpStats } from '../../protocols/http/httpStats.ts';
import type { AvailabilityProfileChange } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { topicName } from '../../schemas/topology.ts';
import { AvailabilityStore, type ProfileChange } from '../../subscriber/availability/availabilityStore.ts';
import { OutboxRelay, type OutboxTable, type RelayOptions } from '../outbox/outboxRelay.ts';
import { stopOutboxService } from '../outbox/outboxService.ts';
import { listenForCommits } from '../../kafka/outboxWakeup.ts';
import { startProfilesHttpApi } from './profilesHttpApi.ts';
import type { ConsentService } from './watcherConsents.ts';
import type { MessageService } from './messagePublisher.ts';

/** The availability store's outbox (subscriber/availability/schema.sql). */
export const AVAILABILITY_OUTBOX: OutboxTable = { table: 'availability_outbox', keyColumn: 'subscriber', lock: 'presence.availability-outbox' };

interface AvailabilityServiceOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** PostgreSQL schema of the availability tables (default `presence`, the event managers' too). */
  schema?: string;
  /** Defaults to the settings' database. */
  databaseUrl?: string;
  /** false: API only; another instance (or a later start) relays the outbox. */
  relay?: boolean;
  relayOptions?: RelayOptions<ProfileChange>;
  maxBodyBytes?: number;
  log?: (line: string) => void;
  /** Answers counted by route and code (profilesHttpApi.ts) for the admin port. */
  stats?: HttpStats;
  /** Watchers and the presentity's answers (issue 16.4); absent: those routes answer 501. */
  consents?: ConsentService;
  /** Messaging systems' publishes to signaling-events (issue 17.5); absent: those routes answer 501. */
  messages?: MessageService;
}

export interface AvailabilityService {
  readonly port: number;
  readonly store: AvailabilityStore;
  readonly relay: OutboxRelay<ProfileChange> | undefined;
  readonly server: http.Server;
  stop(): Promise<void>;
}

/** An outbox row as the topic's Avro record: the profile documents as JSON strings (their format: subscriber/availability/README.md). */
export function changeRecord(c: ProfileChange): AvailabilityProfileChange {
  return {
    subscriber: c.subscriber,
    version: Number(c.version),
    profiles: JSON.stringify(c.profiles),
    previous: c.previous ? JSON.stringify(c.previous) : null,
    changedAt: Number(c.changedAt),
    cause: c.cause,
  };
}

export async function startAvailabilityService(s: Settings, o: AvailabilityServiceOptions = {}): Promise<AvailabilityService> {
  // No cache: the API answers what the database holds.
  const store = new AvailabilityStore(o.databaseUrl ?? s.database.url, o.schema ?? 'presence', 0);
  let producer: TransactionalRecordWriter | undefined;
  let relay: OutboxRelay<ProfileChange> | undefined;
  let stopListening = () => {};
  try {
    await store.migrate();
    if (o.relay !== false) {
      const serde = new RecordSerde(s.registry.url, s.topics.prefix);
      await serde.loadIds();
      // Transactional: the event managers read availability-profiles exactly once; an idempotent producer can write twice (issue 12).
      producer = new TransactionalRecordWriter({
        brokers: s.kafka.brokers,
        clientId: `availability-service-${os.hostname()}-${process.pid}`,
        transactionalId: writerTransactionalId(s.topics.prefix, 'availability-service-profiles'),
        deliveryTimeoutMs: 30_000,
      });
      await producer.connect();
      const topic = topicName(s.topics.prefix, 'availability-profiles');
      const p = producer;
      relay = new OutboxRelay<ProfileChange>(
        store.pool,
        store.schema,
        async (subscriber, change) => {
          // The outbox never holds a tombstone (profiles are replaced, not deleted).
          if (!change) throw new Error(`availability outbox row of ${subscriber} has no record`);
          await p.send(topic, subscriber, serde.encode('availability-profiles', changeRecord(change)), Number(change.changedAt));
        },
        { ...(o.log ? { log: o.log } : {}), ...o.relayOptions },
        AVAILABILITY_OUTBOX,
      );
      relay.start();
      const r = relay;
      // Changes other processes commit (`presence profiles set|activate`, `availability set`) wake it at once.
      stopListening = await listenForCommits(store.pool, AVAILABILITY_OUTBOX.table, store.schema, () => r.nudge());
    }
    const r = relay;
    const server = await startProfilesHttpApi(
      {
        store,
        settings: s,
        ...(r
          ? { onChange: () => r.nudge(), health: async () => ({ outboxBacklog: await store.outboxBacklog(), relay: { ...r.stats } }) }
          : { health: async () => ({ outboxBacklog: await store.outboxBacklog(), relay: 'off' }) }),
        ...(o.maxBodyBytes ? { maxBodyBytes: o.maxBodyBytes } : {}),
        ...(s.http.tokensFile ? { tokens: BearerTokens.load(s.http.tokensFile) } : {}),
        limits: s.http.limits,
        ...(o.log ? { log: o.log } : {}),
        ...(o.stats ? { stats: o.stats } : {}),
        ...(o.consents ? { consents: o.consents } : {}),
        ...(o.messages ? { messages: o.messages } : {}),
      },
      o.port ?? 8093,
      o.host ?? '127.0.0.1',
    );
    return {
      port: (server.address() as AddressInfo).port,
      store,
      relay,
      server,
      stop: () => {
        stopListening();
        return stopOutboxService({ server, relay, producer, store });
      },
    };
  } catch (err) {
    stopListening();
    await stopOutboxService({ relay, producer, store });
    throw err;
  }
}
