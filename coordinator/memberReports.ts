// The event managers' latest self-reports (topic event-manager-members) and
// who owns a partition according to them. Ownership comes from the members
// themselves rather than from the consumer group, so it works for both group
// protocols: kafkajs and node-rdkafka cannot describe a KIP-848 group.
import type { MemberReport } from '../schemas/generated/records.ts';

/** A partition's owner as the reports tell it. */
export interface ReportedOwner {
  memberId: string;
  host: string;
  pid: number;
  sipContact: string | null;
  sipsContact: string | null;
  httpUrl: string | null;
  reportedAt: number;
  /** How old the report naming it is, at the time of the lookup. */
  reportAgeMs: number;
}

export class MemberTable {
  private readonly reports = new Map<string, MemberReport>();

  /** @param staleAfterMs a report older than this names no owner (the member missed ~3 report intervals: dead or cut off). */
  constructor(readonly staleAfterMs: number) {
    if (!(staleAfterMs > 0)) throw new RangeError(`staleAfterMs must be positive, got ${staleAfterMs}`);
  }

  /** A record of the topic: a report, or a tombstone (null) for a member that left. */
  apply(memberId: string, report: MemberReport | null): void {
    if (report === null) this.reports.delete(memberId);
    else {
      // Compaction and re-reads can hand an older report after a newer one.
      const known = this.reports.get(memberId);
      if (!known || known.reportedAt <= report.reportedAt) this.reports.set(memberId, report);
    }
  }

  get size(): number {
    return this.reports.size;
  }

  members(): MemberReport[] {
    return [...this.reports.values()];
  }

  /** Reports that are fresh and not leaving: the members that count. */
  live(nowMs = Date.now()): MemberReport[] {
    return this.members().filter((r) => !r.leaving && nowMs - r.reportedAt <= this.staleAfterMs);
  }

  /**
   * The member whose latest live report lists the partition. During a
   * rebalance two reports can name it (the loser has not reported since it
   * was revoked): the newer report wins.
   */
  ownerOf(partition: number, nowMs = Date.now()): ReportedOwner | null {
    let best: MemberReport | undefined;
    for (const r of this.live(nowMs)) {
      if (!r.partitions.includes(partition)) continue;
      if (!best || r.reportedAt > best.reportedAt) best = r;
    }
    if (!best) return null;
    return {
      memberId: best.memberId,
      host: best.host,
      pid: best.pid,
      sipContact: best.sipContact,
      sipsContact: best.sipsContact,
      httpUrl: best.httpUrl,
      reportedAt: best.reportedAt,
      reportAgeMs: Math.max(0, nowMs - best.reportedAt),
    };
  }
}

/** Staleness limit for a report interval: three missed reports. */
export function staleAfterMs(reportIntervalMs: number): number {
  return 3 * reportIntervalMs;
}
