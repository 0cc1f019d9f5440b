// The SIP front end's metrics and readiness (README, Operations → Metrics and
// health), read from its stats when scraped.
import type { HealthCheck } from '../protocols/http/adminServer.ts';
import { byLabel, type Labels, type MetricsRegistry } from '../protocols/http/metrics.ts';
import type { SipFrontEnd } from './sipFrontEnd.ts';

export function registerSipFrontEndMetrics(m: MetricsRegistry, fe: SipFrontEnd): void {
  const st = fe.stats;
  m.counter('presence_sip_requests_total', 'SIP requests received (new server transactions), by method', () => byLabel('method', st.requests));
  m.counter('presence_sip_responses_total', 'Final SIP responses sent, by status code', () => byLabel('code', st.responses));
  m.counter('presence_sip_subscriptions_recorded_total', 'Accepted SUBSCRIBEs recorded on Kafka (before their 200)', () => st.recorded);
  m.counter('presence_sip_record_failures_total', 'SUBSCRIBEs Kafka did not take (answered 500 + Retry-After)', () => st.recordFailures);
  m.counter('presence_sip_send_failures_total', 'Responses the transport could not send', () => st.sendFailures);
  m.counter('presence_sip_overloaded_total', 'Requests answered 503 because --max-in-flight requests were waiting for Kafka', () => st.overloaded);
  m.counter('presence_sip_not_ready_total', 'Requests (OPTIONS included) answered 503 because the front end was not ready', () => st.notReady);
  m.counter('presence_sip_transport_dropped_total', 'Messages or connections the SIP transport refused on its own, by reason', () => {
    const t = fe.transport.stats;
    const out: Array<[Labels, number]> = [
      [{ reason: 'rate-limited' }, t.rateLimited],
      [{ reason: 'too-large' }, t.tooLarge],
      [{ reason: 'tcp-slow-closed' }, t.tcpSlowClosed],
      [{ reason: 'tcp-framing-closed' }, t.tcpFramingClosed],
    ];
    for (const [why, n] of Object.entries(t.tcpConnectionsRefused)) out.push([{ reason: `tcp-refused-${why}` }, n]);
    for (const [why, n] of Object.entries(t.malformed)) out.push([{ reason: `malformed-${why}` }, n]);
    return out;
  });
  m.gauge('presence_sip_ready', '1 when the front end takes requests, 0 while it answers 503 (Kafka not connected or not taking records)', () =>
    fe.notReadyReason === undefined ? 1 : 0,
  );
  m.counter(
    'presence_sip_transactions_refused_total',
    'New requests answered 503 + Retry-After statelessly because PRESENCE_SIP_MAX_TRANSACTIONS server transactions were held',
    () => fe.layer.stats.overloaded,
  );
  m.gauge('presence_sip_server_transactions', 'Server transactions held (answered ones linger for retransmissions)', () => fe.layer.serverTransactionCount);
  m.histogram(
    'presence_sip_publish_round_trip_seconds',
    'PUBLISH round trips: through the owning event manager (answered), into Kafka for an initial publication (stored), or given up (unanswered)',
    () => [
      [{ outcome: 'answered' }, st.publishRoundTrip.answered],
      [{ outcome: 'stored' }, st.publishRoundTrip.stored],
      [{ outcome: 'unanswered' }, st.publishRoundTrip.unanswered],
    ],
  );
}

export function sipFrontEndReadiness(fe: SipFrontEnd | undefined): HealthCheck {
  if (!fe) return { ok: false, reason: 'starting: not listening yet' };
  const why = fe.notReadyReason;
  return why === undefined ? { ok: true } : { ok: false, reason: why };
}
