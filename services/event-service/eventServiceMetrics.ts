// The event service's metrics and readiness (README → Metrics and health). Ready
// means the database answers: the log, registrations and cursors live there; a
// Kafka outage delays what gets logged (the consumer's lag) without making the
// API wrong.
import type { HealthCheck } from '../../protocols/http/adminServer.ts';
import type { HttpStats } from '../../protocols/http/httpStats.ts';
import type { MetricsRegistry } from '../../protocols/http/metrics.ts';
import type { EventService } from './eventService.ts';

export function registerEventServiceMetrics(m: MetricsRegistry, svc: EventService, stats: HttpStats): void {
  m.counter('presence_event_service_http_responses_total', 'Answers of the event service API, by route and status code', () => stats.byRouteAndCode());
  m.histogram(
    'presence_event_service_http_request_seconds',
    'Time to answer an event service API request (SSE streams: until the headers)',
    () => stats.latency,
  );
  const ingest = svc.ingest.stats;
  m.counter('presence_event_service_events_logged_total', 'Service events logged (first sight of an event id)', () => ingest.logged);
  m.counter(
    'presence_event_service_duplicates_total',
    'Service events read again and skipped by their event id (re-read batches, replays, retried publishes)',
    () => ingest.duplicates,
  );
  m.counter('presence_event_service_recipients_total', 'Recipients (registered services) recorded for logged events', () => ingest.recipients);
  m.counter('presence_event_service_dead_letters_total', 'service-events records that did not decode (dead-lettered)', () => ingest.deadLetters);
  m.counter(
    'presence_event_service_ingest_failures_total',
    'Batches the database did not take (kept and retried, offsets not committed)',
    () => ingest.failures,
  );
  const hooks = svc.webhooks.stats;
  m.counter(
    'presence_event_service_webhook_deliveries_total',
    'Webhook POSTs by outcome: delivered (2xx) or failed (other status or no answer; retried with backoff)',
    () => [
      [{ outcome: 'delivered' }, hooks.delivered],
      [{ outcome: 'failed' }, hooks.failed],
    ],
  );
  m.gauge('presence_event_service_pending_recipients', 'Recipients not yet notified, by delivery mode (webhook, sse, pull)', async () =>
    Object.entries(await svc.store.backlog()).map(([delivery, n]) => [{ delivery }, n] as const),
  );
  m.counter('presence_event_service_retention_deleted_total', 'Log events deleted past the retention', () => svc.retention.deleted);
}

export function eventServiceReadiness(svc: () => EventService | undefined): () => Promise<HealthCheck> {
  return async () => {
    const s = svc();
    if (!s) return { ok: false, reason: 'starting' };
    try {
      await s.store.ping();
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: `database: ${(err as Error).message}` };
    }
  };
}
