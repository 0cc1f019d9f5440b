// The event service (issue 17, seed 004's event notification module): reads
// service-events into the event log with each event's recipients (eventIngest.ts),
// pushes to webhooks (webhookDispatcher.ts) and server-sent-event streams, serves
// pull and the log over HTTP (eventsHttpApi.ts), takes services' registrations and
// publishes, and deletes log rows past the retention.
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import type { Settings } from '../../config/settings.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { BearerTokens } from '../../protocols/http/bearerTokens.ts';
import type { HttpStats } from '../../protocols/http/httpStats.ts';
import type { ServiceEvent } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { topicName } from '../../schemas/topology.ts';
import { EventIngest } from './eventIngest.ts';
import { startEventsHttpApi } from './eventsHttpApi.ts';
import { EventStore } from './eventStore.ts';
import { ContactListResolver } from './contactLists.ts';
import { AvailabilityStore } from '../../subscriber/availability/availabilityStore.ts';
import { WebhookDispatcher, type WebhookOptions } from './webhookDispatcher.ts';
import { EventTypeNotices } from './eventTypeNotices.ts';

export const DEFAULT_EVENT_SERVICE_PORT = 8095;

export interface EventServiceOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** PostgreSQL schema of the event tables. */
  schema?: string;
  databaseUrl?: string;
  /** Log rows older than this are deleted (checked every retentionCheckMs). */
  retentionMs?: number;
  retentionCheckMs?: number;
  webhooks?: Omit<WebhookOptions, 'log'>;
  /** Event type notices: a derived type silent this long is announced unavailable (default 10 min); checked every checkMs (default 30 s). */
  notices?: { silenceMs?: number; checkMs?: number };
  /** Consumer group of the ingest (tests give their own). */
  groupId?: string;
  /** PostgreSQL schema of the availability profiles that contact-list subscriptions read (the availability service's; default presence). */
  availabilitySchema?: string;
  tokens?: BearerTokens;
  maxBodyBytes?: number;
  heartbeatMs?: number;
  stats?: HttpStats;
  log?: (line: string) => void;
}

export interface EventService {
  readonly port: number;
  readonly store: EventStore;
  readonly ingest: EventIngest;
  readonly webhooks: WebhookDispatcher;
  readonly notices: EventTypeNotices;
  readonly server: http.Server;
  readonly retention: { deleted: number; failures: number };
  stop(): Promise<void>;
}

/**
 * Wakes the SSE streams and long polls when the ingest logged events for
 * someone. All waiters share one promise until it fires: a waiter that gave up
 * (its 1 s tick or its wait= bound won the race) leaves nothing behind, where a
 * resolver per call piled up on a quiet service.
 */
class LoggedSignal {
  private pending: { promise: Promise<void>; resolve: () => void } | undefined;
  next(): Promise<void> {
    if (!this.pending) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.pending = { promise, resolve };
    }
    return this.pending.promise;
  }
  fire(): void {
    const p = this.pending;
    this.pending = undefined;
    p?.resolve();
  }
}

export async function startEventService(s: Settings, o: EventServiceOptions = {}): Promise<EventService> {
  const store = new EventStore(o.databaseUrl ?? s.database.url, o.schema ?? 'presence_events');
  const profiles = new AvailabilityStore(o.databaseUrl ?? s.database.url, o.availabilitySchema ?? 'presence');
  const contactLists = new ContactListResolver(s, profiles);
  const started: {
    producer?: RecordProducer;
    ingest?: EventIngest;
    webhooks?: WebhookDispatcher;
    notices?: EventTypeNotices;
    server?: http.Server;
    timer?: NodeJS.Timeout;
  } = {};
  const retention = { deleted: 0, failures: 0 };
  const stopAll = async () => {
    clearInterval(started.timer);
    if (started.server) {
      started.server.closeAllConnections();
      await new Promise((r) => started.server!.close(r));
    }
    await started.notices?.stop();
    await started.ingest?.stop();
    await started.webhooks?.stop();
    await started.producer?.close();
    await store.close();
    await profiles.close();
  };
  try {
    await store.migrate();
    // Contact-list subscriptions read the availability service's tables: present even before that service first ran (idempotent).
    await profiles.migrate();
    const serde = new RecordSerde(s.registry.url, s.topics.prefix);
    await serde.loadIds();
    const clientId = `event-service-${os.hostname()}-${process.pid}`;
    const producer = (started.producer = new RecordProducer(s.kafka.brokers, clientId, 15_000));
    await producer.connect();
    const webhooks = (started.webhooks = new WebhookDispatcher(store, { ...o.webhooks, ...(o.log ? { log: o.log } : {}) }));
    webhooks.start();
    const logged = new LoggedSignal();
    started.ingest = await EventIngest.start(s, {
      store,
      serde,
      producer,
      clientId,
      ...(o.groupId ? { groupId: o.groupId } : {}),
      onLogged: () => {
        webhooks.nudge();
        logged.fire();
      },
      contactLists: (regs) => contactLists.members(regs),
      ...(o.log ? { log: o.log } : {}),
    });
    const topic = topicName(s.topics.prefix, 'service-events');
    const tokens = o.tokens ?? (s.http.tokensFile ? BearerTokens.load(s.http.tokensFile) : undefined);
    // Stamped when written, not with the event's (a service's) time: retention counts from the record's timestamp.
    const publish = async (e: ServiceEvent) => void (await producer.send(topic, e.subject, serde.encode('service-events', e)));
    const notices = (started.notices = new EventTypeNotices(store, {
      silenceMs: o.notices?.silenceMs ?? 10 * 60 * 1000,
      checkMs: o.notices?.checkMs ?? 30_000,
      publish,
      ...(o.log ? { log: o.log } : {}),
    }));
    notices.start();
    started.server = await startEventsHttpApi(
      {
        store,
        settings: s,
        publish,
        nextLogged: () => logged.next(),
        limits: s.http.limits,
        ...(tokens ? { tokens } : {}),
        ...(o.maxBodyBytes ? { maxBodyBytes: o.maxBodyBytes } : {}),
        ...(o.heartbeatMs ? { heartbeatMs: o.heartbeatMs } : {}),
        ...(o.stats ? { stats: o.stats } : {}),
        ...(o.log ? { log: o.log } : {}),
      },
      o.port ?? DEFAULT_EVENT_SERVICE_PORT,
      o.host ?? '127.0.0.1',
    );
    const retentionMs = o.retentionMs ?? 7 * 24 * 3600 * 1000;
    const prune = () =>
      store.deleteOlderThan(retentionMs).then(
        (n) => void (retention.deleted += n),
        (err: Error) => {
          retention.failures++;
          o.log?.(`retention: deleting old log rows failed, next round retries: ${err.message}`);
        },
      );
    void prune();
    started.timer = setInterval(() => void prune(), o.retentionCheckMs ?? 10 * 60 * 1000);
    return {
      port: (started.server.address() as AddressInfo).port,
      store,
      ingest: started.ingest,
      webhooks,
      notices,
      server: started.server,
      retention,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll().catch(() => {});
    throw err;
  }
}
