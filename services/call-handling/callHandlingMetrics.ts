// The call-handling redirect server's metrics and readiness (README,
// Operations → Metrics and health): its requests, answers, the owners'
// decisions and failures, and the decision latency, from its stats.
import type { HealthCheck } from '../../protocols/http/adminServer.ts';
import type { MetricsRegistry } from '../../protocols/http/metrics.ts';
import { LatencyHistogram } from '../../protocols/http/latencyHistogram.ts';
import type { CallHandlingServer } from './callHandlingServer.ts';

const by = (label: string, counts: Readonly<Record<string | number, number | undefined>>) =>
  Object.entries(counts).map(([k, v]) => [{ [label]: k }, v ?? 0] as const);

export function callHandlingReadiness(server: () => CallHandlingServer | undefined): () => HealthCheck {
  return () => (server() ? { ok: true } : { ok: false, reason: 'starting: reading the members’ reports, not listening yet' });
}

export function registerCallHandlingMetrics(m: MetricsRegistry, server: () => CallHandlingServer | undefined, ready: () => HealthCheck): void {
  const st = () => server()?.stats;
  m.counter('presence_call_handling_requests_total', 'Requests to the call-handling redirect server, by method', () => by('method', st()?.requests ?? {}));
  m.counter('presence_call_handling_responses_total', 'Final answers of the call-handling redirect server, by status code', () =>
    by('code', st()?.responses ?? {}),
  );
  m.counter('presence_call_handling_decisions_total', "The owners' call-handling decisions, by action", () => by('action', st()?.decisions ?? {}));
  m.counter('presence_call_handling_owner_failures_total', 'Requests no owner decided (answered 503), by reason', () =>
    by('reason', st()?.ownerFailures ?? {}),
  );
  m.counter('presence_call_handling_retransmissions_total', 'Retransmitted INVITEs answered with the kept answer', () => st()?.retransmissions ?? 0);
  // Before the server starts: an empty histogram, so the series exist from the first scrape.
  const idle = new LatencyHistogram();
  m.histogram('presence_call_handling_decision_seconds', 'Request received to answer sent, the owner asked', () => server()?.stats.decisionSeconds ?? idle);
  m.gauge('presence_call_handling_ready', '1 while the redirect server listens and reads the members’ reports, else 0', () => (ready().ok ? 1 : 0));
}
