// The availability service's metrics and readiness (README, Operations → Metrics
// and health). Ready means the database answers: every change is committed there
// and reaches Kafka through the outbox, so a Kafka outage only grows the backlog
// (a gauge to alert on) and must not take the API out of rotation.
import type { HealthCheck } from '../../protocols/http/adminServer.ts';
import { outboxServiceReadiness } from '../outbox/outboxService.ts';
import type { HttpStats } from '../../protocols/http/httpStats.ts';
import type { MetricsRegistry } from '../../protocols/http/metrics.ts';
import type { AvailabilityService } from './availabilityService.ts';

/** The consent service's rules outbox (watcherConsents.ts), when it runs. */
interface RuleOutbox {
  outboxBacklog(): Promise<number>;
  readonly relay: { readonly stats: { readonly published: number; readonly failures: number } } | undefined;
}

export function registerAvailabilityServiceMetrics(m: MetricsRegistry, svc: AvailabilityService, stats: HttpStats, rules?: RuleOutbox): void {
  m.counter(
    'presence_availability_service_http_responses_total',
    'Answers of the profiles API, by route (method and profiles, activation, healthz) and status code',
    () => stats.byRouteAndCode(),
  );
  m.histogram('presence_availability_service_http_request_seconds', 'Time to answer a profiles API request', () => stats.latency);
  m.gauge('presence_availability_service_outbox_backlog', 'Committed profile changes not yet relayed to the availability-profiles topic', async () =>
    svc.store.outboxBacklog(),
  );
  const relay = svc.relay?.stats;
  m.counter(
    'presence_availability_service_outbox_published_total',
    'Profile changes the outbox relay published on the availability-profiles topic',
    () => relay?.published ?? 0,
  );
  m.counter(
    'presence_availability_service_relay_failures_total',
    'Outbox relay rounds that failed (Kafka or the database did not answer; retried, the rows kept)',
    () => relay?.failures ?? 0,
  );
  if (!rules) return;
  m.gauge('presence_availability_service_rule_outbox_backlog', 'Committed watcher rule changes not yet relayed to the watcher-consents topic', async () =>
    rules.outboxBacklog(),
  );
  m.counter(
    'presence_availability_service_rule_outbox_published_total',
    'Watcher rule changes the rules relay published on the watcher-consents topic',
    () => rules.relay?.stats.published ?? 0,
  );
  m.counter(
    'presence_availability_service_rule_relay_failures_total',
    'Rules relay rounds that failed (Kafka or the database did not answer; retried, the rows kept)',
    () => rules.relay?.stats.failures ?? 0,
  );
}

/** Ready when the database answers (services/outbox/outboxService.ts). */
export const availabilityServiceReadiness: (svc: () => AvailabilityService | undefined) => () => Promise<HealthCheck> = outboxServiceReadiness;
