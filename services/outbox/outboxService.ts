// What the outbox-backed HTTP services (group service, availability service)
// share beyond the relay: readiness and stop order (their metrics stay in each
// service's file, named there). Ready means the database answers: every change
// is committed there and reaches Kafka through the outbox, so a Kafka outage
// only grows the backlog (a gauge to alert on) and must not take the API out of
// rotation.
import type http from 'node:http';
import { cachedCheck, type HealthCheck } from '../../protocols/http/adminServer.ts';
import type { OutboxRelay } from './outboxRelay.ts';

/** The parts of a running outbox-backed service. */
export interface OutboxBackedService {
  readonly store: { outboxBacklog(): Promise<number>; close(): Promise<void> };
  readonly relay: Pick<OutboxRelay<unknown>, 'stats' | 'stop'> | undefined;
}

export function outboxServiceReadiness(svc: () => OutboxBackedService | undefined): () => Promise<HealthCheck> {
  const database = cachedCheck(async () => {
    const s = svc();
    if (!s) return { ok: false, reason: 'starting: migrating the database and listening' };
    const backlog = await s.store.outboxBacklog();
    const r = s.relay?.stats;
    return {
      ok: true,
      details: {
        outboxBacklog: backlog,
        relay: r ? (r.consecutiveFailures ? `failing (${r.consecutiveFailures} rounds: ${r.lastError ?? ''})` : 'ok') : 'off',
      },
    };
  }, 2000);
  return async () => {
    if (!svc()) return { ok: false, reason: 'starting: migrating the database and listening' };
    const c = await database();
    return c.ok ? c : { ok: false, reason: `database does not answer: ${c.reason ?? ''}` };
  };
}

/** Stops a service in dependency order: no new requests, then the relay (its round ends), its producer, the store. */
export async function stopOutboxService(
  p: Partial<OutboxBackedService> & { readonly server?: http.Server; readonly producer?: { close(): Promise<void> } },
): Promise<void> {
  if (p.server) {
    const server = p.server;
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeAllConnections();
    await closed;
  }
  await p.relay?.stop();
  await p.producer?.close();
  await p.store?.close().catch(() => {});
}
