// The notify sink's metrics and readiness (README, Operations → Metrics and
// health), read from its stats when scraped.
import type { HealthCheck } from '../../../protocols/http/adminServer.ts';
import { byLabel, type Labels, type MetricsRegistry } from '../../../protocols/http/metrics.ts';
import type { LatencyHistogram } from '../../../protocols/http/latencyHistogram.ts';
import type { NotifySink } from './notifySink.ts';

export function registerNotifySinkMetrics(m: MetricsRegistry, sink: NotifySink): void {
  const st = sink.stats;
  const d = sink.deliverer.stats;
  m.counter('presence_notify_requests_consumed_total', 'NOTIFY requests read from notify-requests', () => st.consumed);
  m.counter('presence_notify_outcomes_total', 'NOTIFYs finished, by outcome (delivered, gone, gave-up, rejected)', () => byLabel('outcome', d.byOutcome));
  m.counter(
    'presence_notify_superseded_total',
    'Queued NOTIFYs skipped for a newer one of their dialog (--coalesce, --max-queued-per-dialog)',
    () => sink.scheduler.superseded,
  );
  m.counter(
    'presence_notify_unanswered_total',
    'NOTIFYs given up on with no answer to any attempt (--unanswered-max-attempts): the dialog ends without a terminated NOTIFY at that Contact',
    () => d.unanswered,
  );
  m.counter('presence_notify_attempts_total', 'NOTIFY transactions started (first sends and retries)', () => d.attempts);
  m.counter('presence_notify_retries_total', 'NOTIFYs sent again after a timeout, 408 or 5xx', () => d.retries);
  m.counter(
    'presence_notify_fallbacks_total',
    "NOTIFYs sent another way after the first failed: over UDP after TCP (udp), straight after the front end's flow (flow), to the domain's next located server (server, RFC 3263)",
    () => [
      [{ via: 'udp' }, d.udpFallbacks],
      [{ via: 'flow' }, d.flowFallbacks],
      [{ via: 'server' }, d.serverFailovers],
    ],
  );
  m.counter('presence_notify_rate_limited_total', 'NOTIFYs held back by the per-dialog --min-interval-ms', () => sink.scheduler.rateLimited);
  m.counter('presence_notify_delivery_reports_total', 'Outcomes recorded on delivery-reports', () => st.reports);
  m.counter('presence_notify_dead_letters_total', 'Undeliverable NOTIFYs recorded on dead-letters', () => st.deadLetters);
  m.counter('presence_notify_undecodable_total', 'notify-requests records that could not be decoded', () => st.undecodable);
  m.counter('presence_notify_commits_total', 'Offset commits of notify-requests', () => st.commits);
  m.counter('presence_notify_produce_retries_total', 'Reports or dead letters Kafka did not take at first (retried)', () => st.produceRetries);
  m.counter('presence_notify_pauses_total', 'Times back-pressure (--max-pending) paused the input partitions', () => st.pauses);
  m.gauge('presence_notify_pending', 'NOTIFYs read and not finished (queued or in flight)', () => sink.scheduler.pending);
  m.gauge('presence_notify_dialogs', 'Dialogs with NOTIFYs pending', () => sink.scheduler.dialogCount);
  m.gauge('presence_notify_transactions_in_flight', 'NOTIFY transactions holding a --concurrency slot', () => sink.semaphore.inUse);
  m.gauge('presence_notify_paused', '1 while the input partitions are paused for back-pressure', () => (sink.backPressured ? 1 : 0));
  m.histogram('presence_notify_delivery_seconds', 'From the first NOTIFY attempt to its final outcome (retries and backoff included), by outcome', () =>
    Object.entries(d.latency).map(([outcome, h]): [Labels, LatencyHistogram] => [{ outcome }, h]),
  );
}

export function notifySinkReadiness(sink: NotifySink | undefined): HealthCheck {
  if (!sink) return { ok: false, reason: 'starting: connecting to Kafka and joining the group' };
  if (!sink.consuming) return { ok: false, reason: 'not consuming (stopping or its loop ended)' };
  return { ok: true, details: { backPressured: sink.backPressured } };
}
