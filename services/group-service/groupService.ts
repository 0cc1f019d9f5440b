// The group service: the HTTP API over the PostgreSQL group store, and the
// outbox relay that carries every committed change to the `groups` topic
// (Avro Group records keyed by group id; a tombstone when a group is deleted).
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import type { HttpStats } from '../../protocols/http/httpStats.ts';
import type { Settings } from '../../config/settings.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { topicName } from '../../schemas/topology.ts';
import { TransactionalRecordWriter, writerTransactionalId } from '../../kafka/transactionalRecordWriter.ts';
import type { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { stopOutboxService } from '../outbox/outboxService.ts';
import { startGroupHttpApi } from './groupHttpApi.ts';
import { BearerTokens } from '../../protocols/http/bearerTokens.ts';
import { GroupStore } from './groupStore.ts';
import { memberResolver } from './memberResolver.ts';
import { OutboxRelay, type RelayOptions } from '../outbox/outboxRelay.ts';

interface GroupServiceOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** PostgreSQL schema of the group tables (default `presence`). */
  schema?: string;
  /** Defaults to the settings' database. */
  databaseUrl?: string;
  /** false: API only; another instance (or a later start) relays the outbox. */
  relay?: boolean;
  relayOptions?: RelayOptions;
  /** Member URIs resolve to the directory's subscriber keys when given. */
  directory?: SubscriberDirectory;
  maxBodyBytes?: number;
  log?: (line: string) => void;
  /** Answers counted by route and code (groupHttpApi.ts) for the admin port. */
  stats?: HttpStats;
}

export interface GroupService {
  readonly port: number;
  readonly store: GroupStore;
  readonly relay: OutboxRelay | undefined;
  readonly server: http.Server;
  stop(): Promise<void>;
}

export async function startGroupService(s: Settings, o: GroupServiceOptions = {}): Promise<GroupService> {
  const store = new GroupStore(o.databaseUrl ?? s.database.url, o.schema ?? 'presence');
  let producer: TransactionalRecordWriter | undefined;
  let relay: OutboxRelay | undefined;
  try {
    await store.migrate();
    if (o.relay !== false) {
      const serde = new RecordSerde(s.registry.url, s.topics.prefix);
      await serde.loadIds();
      // Transactional: the group presence processors read groups exactly once, and an idempotent producer
      // can write a record twice across an epoch bump (issue 12).
      producer = new TransactionalRecordWriter({
        brokers: s.kafka.brokers,
        clientId: `group-service-${os.hostname()}-${process.pid}`,
        transactionalId: writerTransactionalId(s.topics.prefix, 'group-service'),
        deliveryTimeoutMs: 30_000,
      });
      await producer.connect();
      const topic = topicName(s.topics.prefix, 'groups');
      const p = producer;
      relay = new OutboxRelay(
        store.pool,
        store.schema,
        async (groupId, record) => {
          await p.send(topic, groupId, record ? serde.encode('groups', record) : null, record?.updatedAt);
        },
        { ...(o.log ? { log: o.log } : {}), ...o.relayOptions },
      );
      relay.start();
    }
    const r = relay;
    const server = await startGroupHttpApi(
      {
        store,
        resolveMember: memberResolver(s, o.directory),
        ...(r ? { onChange: () => r.nudge(), health: () => ({ relay: { ...r.stats } }) } : { health: () => ({ relay: 'off' }) }),
        ...(o.maxBodyBytes ? { maxBodyBytes: o.maxBodyBytes } : {}),
        ...(s.http.tokensFile ? { tokens: BearerTokens.load(s.http.tokensFile) } : {}),
        limits: s.http.limits,
        ...(o.log ? { log: o.log } : {}),
        ...(o.stats ? { stats: o.stats } : {}),
      },
      o.port ?? 8091,
      o.host ?? '127.0.0.1',
    );
    return {
      port: (server.address() as AddressInfo).port,
      store,
      relay,
      server,
      stop: () => stopOutboxService({ server, relay, producer, store }),
    };
  } catch (err) {
    await stopOutboxService({ relay, producer, store });
    throw err;
  }
}
