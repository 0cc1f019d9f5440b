// The event manager's metrics and readiness (README, Operations → Metrics and
// health): the counters of its stats line, store sizes per partition, and the
// group's lag, all read when scraped.
import { allReady, type HealthCheck } from '../../protocols/http/adminServer.ts';
import { sipFrontEndReadiness } from '../../front-end/sipFrontEndMetrics.ts';
import type { SipFrontEnd } from '../../front-end/sipFrontEnd.ts';
import { byLabel, type Labels, type MetricsRegistry } from '../../protocols/http/metrics.ts';
import { groupLag, type PartitionLag } from '../../kafka/groupLag.ts';
import { processorReadiness } from '../../kafka/processorReadiness.ts';
import type { EventManager } from './eventManager.ts';

/** Lag is asked of the brokers (an admin round trip): at most this often, however often Prometheus scrapes. */
const LAG_CACHE_MS = 5000;

export function registerEventManagerMetrics(m: MetricsRegistry, em: EventManager, brokers: string): void {
  const ps = em.processor.stats;
  const st = em.stats;
  m.counter('presence_event_manager_records_total', 'Input records processed (a batch re-read after an abort counts again)', () => ps.records);
  m.counter('presence_event_manager_records_by_kind_total', 'Input records applied, by kind of record', () => [
    [{ kind: 'signal' }, st.signals],
    [{ kind: 'subscribe' }, st.subscribes],
    [{ kind: 'delivery-report' }, st.reports],
    [{ kind: 'publish' }, st.publishes],
    [{ kind: 'profile-change' }, st.profileChanges],
    [{ kind: 'consent' }, st.consents],
  ]);
  m.counter(
    'presence_event_manager_profile_repeats_total',
    'availability-profiles records dropped: a repeat or older than the version the subscriber already has (the outbox relay is at-least-once)',
    () => st.profileRepeats,
  );
  m.counter('presence_event_manager_presence_changes_total', 'Changes of a subscriber presence published on current-presence', () => st.presenceChanges);
  m.counter('presence_event_manager_notify_requests_total', 'NOTIFY requests issued to notify-requests', () => st.notifies);
  m.counter('presence_event_manager_timers_fired_total', 'Presence and dialog timers fired', () => st.timersFired);
  m.counter(
    'presence_event_manager_location_requests_total',
    'Location requests written to location-requests (Le), by cause: a SUBSCRIBE, or the refresh timer of a watcher allowed location',
    () => byLabel('cause', st.locationRequests),
  );
  m.counter(
    'presence_event_manager_messaging_total',
    'Messaging facts (message-summary, new messages), by outcome: applied, repeat (a message id already told), dropped (a held message past the per-subscriber bound)',
    () => byLabel('outcome', { applied: st.messaging.applied, repeat: st.messaging.repeats, dropped: st.messaging.dropped }),
  );
  m.counter('presence_event_manager_outputs_total', 'Records produced in committed and aborted transactions', () => ps.outputs);
  m.counter('presence_event_manager_transactions_total', 'Kafka transactions committed', () => ps.transactions);
  m.counter('presence_event_manager_aborts_total', 'Kafka transactions aborted (the batch is read again)', () => ps.aborts);
  m.counter(
    'presence_event_manager_producer_recoveries_total',
    'Fenced or failed transactional producers replaced in place (uncommitted state dropped, partitions restored) instead of stopping the member',
    () => ps.producerRecoveries,
  );
  m.counter(
    'presence_event_manager_enforced_processing_total',
    'Partitions processed without waiting further for a co-partitioned input whose end was unknown (PRESENCE_MAX_TASK_IDLE_MS passed): their records may be out of timestamp order',
    () => ps.enforcedProcessing,
  );
  m.histogram('presence_event_manager_transaction_commit_seconds', 'Kafka transaction commits (the flush of their records included)', () => ps.commitLatency);
  m.counter('presence_event_manager_duplicate_events_total', 'Signaling events dropped as repeats of a recent event id', () => st.duplicates);
  m.counter('presence_event_manager_dead_letters_total', 'Input records dead-lettered, by reason', () => byLabel('reason', st.deadLetterReasons));
  m.counter('presence_event_manager_restores_total', 'Partition stores restored from their changelog', () => ps.restores);
  m.counter('presence_event_manager_restored_records_total', 'Changelog records read by restores', () => ps.restoredRecords);
  m.counter('presence_event_manager_restore_seconds_total', 'Time spent restoring stores from changelogs', () => ps.restoreMs / 1000);
  m.counter(
    'presence_event_manager_checkpoint_loads_total',
    'Partition stores loaded from a local checkpoint (then only the changelog after it was read)',
    () => ps.checkpoints.loads,
  );
  m.counter('presence_event_manager_checkpoint_loaded_entries_total', 'Keys loaded from local checkpoints', () => ps.checkpoints.loadedEntries);
  m.counter(
    'presence_event_manager_checkpoint_fallbacks_total',
    'Restores that read the whole changelog because no valid local checkpoint was there, by reason',
    () => byLabel('reason', ps.checkpoints.fallbacks as Record<string, number>),
  );
  m.counter('presence_event_manager_checkpoint_writes_total', 'Local state checkpoints written', () => ps.checkpoints.writes);
  m.counter(
    'presence_event_manager_checkpoint_write_failures_total',
    'Local state checkpoints that could not be written (the previous one stays)',
    () => ps.checkpoints.writeFailures,
  );
  m.counter(
    'presence_event_manager_checkpoint_write_seconds_total',
    'Time spent writing local state checkpoints (in the background)',
    () => ps.checkpoints.writeMs / 1000,
  );
  m.gauge('presence_event_manager_partitions', 'Partitions owned, by state (live: restored and processed)', () => {
    const h = em.processor.health();
    return [
      [{ state: 'live' }, h.live.length],
      [{ state: 'restoring' }, h.restoring.length],
      [{ state: 'split' }, h.split.length],
    ];
  });
  m.gauge('presence_event_manager_subscribers', 'Subscribers in the store, per owned live partition', () =>
    em.processor.ctx.partitions().map((p): [Labels, number] => [{ partition: String(p) }, em.processor.ctx.store(p).size]),
  );
  m.gauge(
    'presence_event_manager_timer_index_rebuilding',
    'Owned partitions whose timer index is still being rebuilt after a restore or an abort (their timers can only fire late meanwhile)',
    () => em.timersIndexing().length,
  );
  m.gauge('presence_event_manager_dialogs', "Watchers' subscription dialogs held, per owned live partition", () =>
    em.processor.ctx.partitions().map((p): [Labels, number] => [{ partition: String(p) }, em.dialogsHeld(p)]),
  );
  let lag: { at: number; value: Promise<PartitionLag[]> } | undefined;
  m.gauge(
    'presence_event_manager_consumer_lag',
    "The group's committed offsets behind the log end, per input partition (the whole group's, as every member sees it)",
    async () => {
      if (!lag || Date.now() - lag.at > LAG_CACHE_MS) lag = { at: Date.now(), value: groupLag(brokers, em.processor.groupId, [...em.processor.inputTopics]) };
      const now = await lag.value.catch(() => {
        lag = undefined; // asked again next scrape; the series are absent meanwhile
        return [];
      });
      return now.map((p): [Labels, number] => [{ topic: p.topic, partition: String(p.partition) }, p.lag]);
    },
  );
}

/** Ready: started, joined, its loop running, and no assigned partition still restoring or split across members. */
export function eventManagerReadiness(em: EventManager | undefined): HealthCheck {
  if (!em) return { ok: false, reason: 'starting: connecting to Kafka and joining the group' };
  return processorReadiness(em.processor.health());
}

/**
 * The member's readiness (`run event-manager`). With `--sip-port` (`embedded` given) it is also a
 * SIP edge that redirect and proxy front ends send SUBSCRIBEs to, so it is ready only when its
 * embedded front end is too; `embedded.frontEnd` undefined: not started yet.
 */
export function memberReadiness(em: EventManager | undefined, embedded?: { frontEnd: SipFrontEnd | undefined }): HealthCheck {
  if (!embedded) return eventManagerReadiness(em);
  return allReady([
    ['eventManager', eventManagerReadiness(em)],
    ['sipFrontEnd', sipFrontEndReadiness(embedded.frontEnd)],
  ]);
}
