import { describe, expect, it } from 'vitest';
import type { MemberReport } from '../schemas/generated/records.ts';
import { MemberTable, staleAfterMs } from './memberReports.ts';

const report = (memberId: string, partitions: number[], reportedAt: number, extra: Partial<MemberReport> = {}): MemberReport => ({
  memberId,
  host: 'h',
  pid: 1,
  sipContact: `sip:10.0.0.${memberId.length}:5071`,
  sipsContact: null,
  httpUrl: null,
  partitions,
  partitionLoad: [],
  utilization: 0,
  capacityEventsPerSecond: 0,
  startedAt: 0,
  reportedAt,
  leaving: false,
  restoring: [],
  ...extra,
});

describe('MemberTable', () => {
  it('names the member whose latest live report lists the partition, with the report age', () => {
    const t = new MemberTable(staleAfterMs(5000));
    t.apply('em-1', report('em-1', [0, 2], 1000));
    t.apply('em-2', report('em-2', [1, 3], 1200));
    expect(t.ownerOf(2, 1500)).toMatchObject({ memberId: 'em-1', reportAgeMs: 500, sipContact: 'sip:10.0.0.4:5071' });
    expect(t.ownerOf(3, 1500)?.memberId).toBe('em-2');
    expect(t.ownerOf(4, 1500)).toBeNull();
  });

  it('during a rebalance the newer report wins; an older report arriving late does not replace a newer one', () => {
    const t = new MemberTable(15_000);
    t.apply('em-1', report('em-1', [0, 1], 1000));
    t.apply('em-2', report('em-2', [1], 2000));
    expect(t.ownerOf(1, 2500)?.memberId).toBe('em-2');
    t.apply('em-2', report('em-2', [], 1500)); // stale duplicate
    expect(t.ownerOf(1, 2500)?.memberId).toBe('em-2');
  });

  it('ignores stale reports, leaving members and tombstoned ones', () => {
    const t = new MemberTable(15_000);
    t.apply('em-1', report('em-1', [0], 1000));
    expect(t.ownerOf(0, 16_000)?.memberId).toBe('em-1');
    expect(t.ownerOf(0, 16_001)).toBeNull(); // three missed 5 s reports
    t.apply('em-1', report('em-1', [0], 20_000, { leaving: true }));
    expect(t.ownerOf(0, 20_001)).toBeNull();
    expect(t.size).toBe(1);
    t.apply('em-1', null);
    expect(t.size).toBe(0);
    expect(() => new MemberTable(0)).toThrow(/positive/);
  });
});
