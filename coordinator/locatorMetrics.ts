// The locator's metrics and readiness (README, Operations → Metrics and health):
// its answers by route and code, their latency, and whether Kafka answers —
// without Kafka every /locate is a 503, so the locator is not ready.
import { cachedCheck, type HealthCheck } from '../protocols/http/adminServer.ts';
import type { HttpStats } from '../protocols/http/httpStats.ts';
import type { MetricsRegistry } from '../protocols/http/metrics.ts';
import { brokerAnswers } from '../kafka/kafkaAdmin.ts';

export function locatorReadiness(brokers: string, listening: () => boolean): () => Promise<HealthCheck> {
  const kafka = cachedCheck(async () => ((await brokerAnswers(brokers)) ? { ok: true } : { ok: false, reason: `Kafka at ${brokers} does not answer` }));
  return async () => {
    if (!listening()) return { ok: false, reason: 'starting: not listening yet' };
    const k = await kafka();
    return { ...k, details: { brokers } };
  };
}

export function registerLocatorMetrics(m: MetricsRegistry, stats: HttpStats, ready: () => Promise<HealthCheck>): void {
  m.counter('presence_locator_http_responses_total', 'Answers of the locator API, by route (locate, healthz, other) and status code', () =>
    stats.byRouteAndCode(),
  );
  m.histogram('presence_locator_http_request_seconds', 'Time to answer a locator API request (owner and presence looked up)', () => stats.latency);
  m.gauge('presence_locator_ready', '1 while the locator can answer (Kafka answers), else 0', async () => ((await ready()).ok ? 1 : 0));
}
