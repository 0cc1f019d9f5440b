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

/** Where the in-member server's calls were decided (MemberDecisions.counts): from its store, or asked of another owner. */
export interface DecidedWhere {
  readonly local: number;
  readonly elsewhere: number;
}

/**
 * The same series whether the server runs as `run call-handling` or inside a member
 * (`run event-manager --call-handling-port`, on the member's admin port), so one
 * dashboard reads both; `where` adds the member's split between its own keys and others'.
 */
export function registerCallHandlingMetrics(
  m: MetricsRegistry,
  server: () => CallHandlingServer | undefined,
  ready: () => HealthCheck,
  where?: () => DecidedWhere | undefined,
): void {
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
  if (where)
    m.counter(
      'presence_call_handling_member_decisions_total',
      'Calls the in-member redirect server decided from its own store (local) or asked of their owner (elsewhere)',
      () => {
        const w = where();
        return [
          [{ where: 'local' }, w?.local ?? 0],
          [{ where: 'elsewhere' }, w?.elsewhere ?? 0],
        ] as const;
      },
    );
  m.gauge('presence_call_handling_ready', '1 while the redirect server listens and reads the members’ reports, else 0', () => (ready().ok ? 1 : 0));
}
