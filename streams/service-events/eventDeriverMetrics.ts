// The service-event deriver's metrics and readiness (`presence run event-deriver
// --admin-port`; README, Operations → Metrics and health). Names are literal so
// the README's metrics table can be checked against them.
import type { HealthCheck } from '../../protocols/http/adminServer.ts';
import type { Labels, MetricsRegistry } from '../../protocols/http/metrics.ts';
import { processorReadiness } from '../../kafka/processorReadiness.ts';
import type { EventDeriver } from './serviceEventDeriver.ts';

export function registerEventDeriverMetrics(m: MetricsRegistry, d: EventDeriver): void {
  const p = d.processor.stats;
  const st = d.stats;
  m.counter('presence_event_deriver_records_total', 'Input records processed (a batch re-read after an abort counts again)', () => p.records);
  m.counter('presence_event_deriver_inputs_total', 'Input records, by topic (signaling, presence, availability)', () => [
    [{ topic: 'signaling' }, st.signaling],
    [{ topic: 'presence' }, st.presence],
    [{ topic: 'availability' }, st.availability],
  ]);
  m.counter('presence_event_deriver_events_total', 'Service events written to service-events, by type', () =>
    Object.entries(st.events).map(([type, n]): [Labels, number] => [{ type }, n]),
  );
  m.counter('presence_event_deriver_dead_letters_total', 'Input records dead-lettered (bad input)', () => st.deadLetters);
  m.counter('presence_event_deriver_transactions_total', 'Kafka transactions committed', () => p.transactions);
  m.counter('presence_event_deriver_aborts_total', 'Kafka transactions aborted (the batch is read again)', () => p.aborts);
  m.counter('presence_event_deriver_restored_records_total', 'Changelog records read by restores of the open-calls store', () => p.restoredRecords);
  m.counter('presence_event_deriver_restore_seconds_total', 'Time spent restoring the open-calls store from its changelog', () => p.restoreMs / 1000);
  m.histogram('presence_event_deriver_transaction_commit_seconds', 'Kafka transaction commits', () => p.commitLatency);
  m.gauge('presence_event_deriver_partitions', 'Partitions owned, by state (live, restoring, split)', () => {
    const h = d.processor.health();
    return [
      [{ state: 'live' }, h.live.length],
      [{ state: 'restoring' }, h.restoring.length],
      [{ state: 'split' }, h.split.length],
    ];
  });
  m.gauge('presence_event_deriver_open_calls', 'Calls offered and not yet over, held to tell a missed call from an answered one', () => {
    const ctx = d.processor.ctx;
    let n = 0;
    for (const part of ctx.partitions()) for (const [, s] of ctx.store(part).entries()) n += s.calls.length;
    return n;
  });
}

/** Ready: started, joined, the loop running, no assigned partition restoring or split (processorReadiness). */
export function eventDeriverReadiness(d: EventDeriver | undefined): HealthCheck {
  if (!d) return { ok: false, reason: 'starting: connecting to Kafka, joining the group and restoring the open calls' };
  return processorReadiness(d.processor.health());
}
