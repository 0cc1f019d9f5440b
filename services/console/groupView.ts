// The event-manager group as the console draws it: every member from its
// latest MemberReport, and which member owns each partition right now. Owners
// come from the coordinator's MemberTable (newest live report naming the
// partition), so the console and `presence locate` never disagree. A change of
// owner is a move; a partition with no owner between two moves is in transit
// (revoked from one member, not yet reported by the next): the rebalance pause.
// Then the new owner restores the partition's store before it processes it:
// its reports carry that restore's progress (MemberReport.restoring).
import type { MemberReport, PartitionRestore } from '../../schemas/generated/records.ts';
import { MemberTable } from '../../coordinator/memberReports.ts';

export interface PartitionMove {
  partition: number;
  /** null: the partition had no owner (first report, or in transit). */
  from: string | null;
  /** null: nobody owns it now (revoked, leaving, or the member went stale). */
  to: string | null;
  at: number;
}

export interface MemberView {
  memberId: string;
  host: string;
  pid: number;
  sipContact: string | null;
  httpUrl: string | null;
  partitions: number[];
  subscribers: number;
  eventsPerSecond: number;
  utilization: number;
  capacityEventsPerSecond: number;
  startedAt: number;
  reportedAt: number;
  ageMs: number;
  /** live: counts as owner; stale: missed three report intervals; leaving: its final report of a clean stop. */
  state: 'live' | 'stale' | 'leaving';
  /** Its partitions whose stores are still being restored (not processed yet), with progress. */
  restoring: PartitionRestore[];
}

/** A restore that ended: the partition went live at its owner. */
export interface RestoreDone {
  partition: number;
  memberId: string;
  records: number;
  ms: number;
  at: number;
}

export interface GroupSnapshot {
  at: number;
  partitions: number;
  members: MemberView[];
  /** Owner per partition number (index), null when none. */
  owners: Array<string | null>;
}

export class GroupView {
  private readonly table: MemberTable;
  private owners: Array<string | null>;

  constructor(
    readonly partitions: number,
    readonly staleAfterMs: number,
  ) {
    this.table = new MemberTable(staleAfterMs);
    this.owners = new Array<string | null>(partitions).fill(null);
  }

  /** Restores each member reported last, to see them end. */
  private readonly restoring = new Map<string, PartitionRestore[]>();
  /** Restores that ended since the last call of restoresDone(). */
  private done: RestoreDone[] = [];

  /** A record of event-manager-members (null: tombstone); returns the moves it caused. */
  apply(memberId: string, report: MemberReport | null, nowMs: number): PartitionMove[] {
    const before = this.restoring.get(memberId) ?? [];
    const now = report?.restoring ?? [];
    // Ended and still held: the partition is live there. Revoked mid-restore is a move, not a restore done.
    for (const r of before)
      if (!now.some((n) => n.partition === r.partition) && report?.partitions.includes(r.partition) && !report.leaving)
        this.done.push({ partition: r.partition, memberId, records: r.restoredRecords, ms: Math.max(0, report.reportedAt - r.startedAt), at: nowMs });
    if (now.length) this.restoring.set(memberId, now);
    else this.restoring.delete(memberId);
    this.table.apply(memberId, report);
    return this.tick(nowMs);
  }

  /** Restores that ended since last asked (records: as far as the last report in progress saw). */
  restoresDone(): RestoreDone[] {
    return this.done.splice(0);
  }

  /** Re-derives the owners as time passes (reports go stale without any record arriving). */
  tick(nowMs: number): PartitionMove[] {
    const next = Array.from({ length: this.partitions }, (_, p) => this.table.ownerOf(p, nowMs)?.memberId ?? null);
    const moves: PartitionMove[] = [];
    next.forEach((to, partition) => {
      const from = this.owners[partition] ?? null;
      if (from !== to) moves.push({ partition, from, to, at: nowMs });
    });
    this.owners = next;
    return moves;
  }

  snapshot(nowMs: number): GroupSnapshot {
    const members = this.table
      .members()
      .map((r): MemberView => {
        const load = r.partitionLoad.filter((l) => r.partitions.includes(l.partition));
        return {
          memberId: r.memberId,
          host: r.host,
          pid: r.pid,
          sipContact: r.sipContact,
          httpUrl: r.httpUrl,
          partitions: [...r.partitions].sort((a, b) => a - b),
          subscribers: load.reduce((n, l) => n + l.subscribers, 0),
          eventsPerSecond: load.reduce((n, l) => n + l.eventsPerSecond, 0),
          utilization: r.utilization,
          capacityEventsPerSecond: r.capacityEventsPerSecond,
          startedAt: r.startedAt,
          reportedAt: r.reportedAt,
          ageMs: Math.max(0, nowMs - r.reportedAt),
          state: r.leaving ? 'leaving' : nowMs - r.reportedAt > this.staleAfterMs ? 'stale' : 'live',
          // Reports from members older than the field decode with [] (its default).
          restoring: (r.restoring ?? []).filter((x) => r.partitions.includes(x.partition)),
        };
      })
      .sort((a, b) => a.memberId.localeCompare(b.memberId));
    return { at: nowMs, partitions: this.partitions, members, owners: [...this.owners] };
  }
}
