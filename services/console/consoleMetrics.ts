// The console's metrics and readiness (README, Operations → Metrics and
// health). Ready means its feed reads Kafka: without it the page shows only a
// banner and the API answers 503.
import type { HealthCheck } from '../../protocols/http/adminServer.ts';
import type { Labels, MetricsRegistry } from '../../protocols/http/metrics.ts';
import type { Console } from './consoleServer.ts';

export function registerConsoleMetrics(m: MetricsRegistry, app: Console): void {
  m.gauge('presence_console_kafka_up', '1 while the console reads Kafka, else 0 (connecting or down)', () => (app.feed.status.kafka === 'up' ? 1 : 0));
  m.gauge('presence_console_streams', 'Pages with an open server-sent event stream', () => app.openStreams);
  m.counter('presence_console_flow_records_total', 'Records of the flow topics the console has read since it connected, by flow', () =>
    Object.entries(app.feed.flow.snapshot(Date.now()).totals).map(([flow, n]): [Labels, number] => [{ flow }, n]),
  );
  m.counter('presence_console_undecodable_total', 'Records the console could not decode (skipped)', () => app.feed.undecodable);
}

export function consoleReadiness(app: Console | undefined): HealthCheck {
  if (!app) return { ok: false, reason: 'starting: not listening yet' };
  const st = app.feed.status;
  if (st.kafka !== 'up')
    return { ok: false, reason: `Kafka at ${st.brokers} is not readable: ${st.error ?? 'still connecting'}`, details: { kafka: st.kafka } };
  return { ok: true, details: { kafka: st.kafka, since: new Date(st.since).toISOString() } };
}
