// Group presence's metrics and readiness (README, Operations → Metrics and
// health). The process runs two exactly-once processors (groups: group-keyed;
// members: subscriber-keyed), so the processor series carry `half`; each
// half's own counters are named for what they count.
import { allReady, type HealthCheck } from '../../protocols/http/adminServer.ts';
import type { Labels, MetricsRegistry } from '../../protocols/http/metrics.ts';
import type { ProcessorStats } from '../../kafka/processorTypes.ts';
import { processorReadiness, type ProcessorHealth } from '../../kafka/processorReadiness.ts';
import type { GroupPresenceService } from './groupPresenceService.ts';

interface Half {
  stats: ProcessorStats;
  health(): ProcessorHealth;
}

function halves(gp: GroupPresenceService): Array<[string, Half]> {
  return [
    ['groups', { stats: gp.groups.processor.stats, health: () => gp.groups.processor.health() }],
    ['members', { stats: gp.members.processor.stats, health: () => gp.members.processor.health() }],
  ];
}

export function registerGroupPresenceMetrics(m: MetricsRegistry, gp: GroupPresenceService): void {
  const each = (read: (h: Half) => number) => () => halves(gp).map(([half, h]): [Labels, number] => [{ half }, read(h)]);
  m.counter(
    'presence_group_presence_records_total',
    'Input records processed, by half (a batch re-read after an abort counts again)',
    each((h) => h.stats.records),
  );
  m.counter(
    'presence_group_presence_transactions_total',
    'Kafka transactions committed, by half',
    each((h) => h.stats.transactions),
  );
  m.counter(
    'presence_group_presence_aborts_total',
    'Kafka transactions aborted (the batch is read again), by half',
    each((h) => h.stats.aborts),
  );
  m.counter(
    'presence_group_presence_restored_records_total',
    'Changelog records read by restores, by half',
    each((h) => h.stats.restoredRecords),
  );
  m.counter(
    'presence_group_presence_restore_seconds_total',
    'Time spent restoring stores from changelogs, by half',
    each((h) => h.stats.restoreMs / 1000),
  );
  m.histogram('presence_group_presence_transaction_commit_seconds', 'Kafka transaction commits, by half', () =>
    halves(gp).map(([half, h]) => [{ half }, h.stats.commitLatency] as const),
  );
  m.gauge('presence_group_presence_partitions', 'Partitions owned, by half and state (live, restoring, split)', () =>
    halves(gp).flatMap(([half, h]): Array<[Labels, number]> => {
      const x = h.health();
      return [
        [{ half, state: 'live' }, x.live.length],
        [{ half, state: 'restoring' }, x.restoring.length],
        [{ half, state: 'split' }, x.split.length],
      ];
    }),
  );
  const g = gp.groups.stats;
  const ms = gp.members.stats;
  m.counter(
    'presence_group_presence_inputs_total',
    'Input records applied, by kind (group, member-presence, subscribe, delivery-report on the groups half; presence, membership on the members half)',
    () => [
      [{ kind: 'group' }, g.groupRecords],
      [{ kind: 'member-presence' }, g.memberPresence],
      [{ kind: 'subscribe' }, g.subscribes],
      [{ kind: 'delivery-report' }, g.reports],
      [{ kind: 'presence' }, ms.presence],
      [{ kind: 'membership' }, ms.memberships],
    ],
  );
  m.counter('presence_group_presence_subscribes_refused_total', 'Group SUBSCRIBEs refused (outsiders, receiving policy)', () => g.refused);
  m.counter('presence_group_presence_notify_requests_total', 'Group NOTIFY requests (RFC 4662) issued to notify-requests', () => g.notifies);
  m.counter('presence_group_presence_documents_total', 'Group presence documents published on group-presence', () => g.documents);
  m.counter(
    'presence_group_presence_fanned_out_total',
    "Member presence records fanned out to the member's groups (group-member-presence)",
    () => ms.fannedOut,
  );
  m.counter('presence_group_presence_dead_letters_total', 'Input records dead-lettered, by half', () => [
    [{ half: 'groups' }, g.deadLetters],
    [{ half: 'members' }, ms.deadLetters],
  ]);
  m.gauge('presence_group_presence_groups', 'Groups in the store (live partitions of the groups half)', () => {
    const ctx = gp.groups.processor.ctx;
    return ctx.partitions().reduce((n, p) => n + ctx.store(p).size, 0);
  });
  m.gauge('presence_group_presence_dialogs', "Group watchers' subscription dialogs held", () => {
    const ctx = gp.groups.processor.ctx;
    let n = 0;
    for (const p of ctx.partitions()) for (const [, st] of ctx.store(p).entries()) n += st.watchers.length;
    return n;
  });
}

function halfReadiness(h: Half): HealthCheck {
  return processorReadiness(h.health());
}

/** Ready: both halves started, their loops running, nothing restoring or split (either half alone cannot answer a group SUBSCRIBE). */
export function groupPresenceReadiness(gp: GroupPresenceService | undefined): HealthCheck {
  if (!gp) return { ok: false, reason: 'starting: connecting to Kafka, joining both groups and restoring the stores' };
  return allReady(halves(gp).map(([half, h]) => [half, halfReadiness(h)] as const));
}
