import { describe, expect, it } from 'vitest';
import type { MemberReport } from '../../schemas/generated/records.ts';
import { GroupView } from './groupView.ts';

const report = (memberId: string, partitions: number[], reportedAt: number, extra: Partial<MemberReport> = {}): MemberReport => ({
  memberId,
  host: 'h',
  pid: 1,
  sipContact: null,
  sipsContact: null,
  httpUrl: null,
  partitions,
  partitionLoad: partitions.map((partition) => ({ partition, eventsPerSecond: 2.5, subscribers: 10 })),
  utilization: 0.25,
  capacityEventsPerSecond: 0,
  startedAt: 0,
  reportedAt,
  leaving: false,
  restoring: [],
  ...extra,
});

describe('GroupView', () => {
  it('lists each member with its partitions, subscribers and events/s summed over them', () => {
    const g = new GroupView(4, 15_000);
    g.apply('em-1', report('em-1', [0, 1], 1000), 1000);
    g.apply('em-2', report('em-2', [2, 3], 1100), 1100);
    const snap = g.snapshot(2000);
    expect(snap.partitions).toBe(4);
    expect(snap.owners).toEqual(['em-1', 'em-1', 'em-2', 'em-2']);
    expect(snap.members.map((m) => m.memberId)).toEqual(['em-1', 'em-2']);
    expect(snap.members[0]).toMatchObject({ partitions: [0, 1], subscribers: 20, eventsPerSecond: 5, utilization: 0.25, state: 'live', ageMs: 1000 });
  });

  it('a rebalance: partitions leave one member (in transit, no owner) and arrive at another, reported as moves', () => {
    const g = new GroupView(4, 15_000);
    expect(g.apply('em-1', report('em-1', [0, 1, 2, 3], 1000), 1000)).toEqual([
      { partition: 0, from: null, to: 'em-1', at: 1000 },
      { partition: 1, from: null, to: 'em-1', at: 1000 },
      { partition: 2, from: null, to: 'em-1', at: 1000 },
      { partition: 3, from: null, to: 'em-1', at: 1000 },
    ]);
    // em-1 is revoked first: 2 and 3 have no owner until em-2 reports them.
    expect(g.apply('em-1', report('em-1', [0, 1], 2000), 2000)).toEqual([
      { partition: 2, from: 'em-1', to: null, at: 2000 },
      { partition: 3, from: 'em-1', to: null, at: 2000 },
    ]);
    expect(g.snapshot(2000).owners).toEqual(['em-1', 'em-1', null, null]);
    expect(g.apply('em-2', report('em-2', [2, 3], 2100), 2100)).toEqual([
      { partition: 2, from: null, to: 'em-2', at: 2100 },
      { partition: 3, from: null, to: 'em-2', at: 2100 },
    ]);
    // The other order: the newcomer reports before the loser: a direct move.
    expect(g.apply('em-3', report('em-3', [1], 3000), 3000)).toEqual([{ partition: 1, from: 'em-1', to: 'em-3', at: 3000 }]);
    expect(g.apply('em-1', report('em-1', [0], 3100), 3100)).toEqual([]);
  });

  it('a leaving member gives its partitions up at once; its tombstone removes it', () => {
    const g = new GroupView(2, 15_000);
    g.apply('em-1', report('em-1', [0, 1], 1000), 1000);
    expect(g.apply('em-1', report('em-1', [0, 1], 1500, { leaving: true }), 1500)).toHaveLength(2);
    expect(g.snapshot(1500).members[0]!.state).toBe('leaving');
    expect(g.apply('em-1', null, 1600)).toEqual([]);
    expect(g.snapshot(1600)).toMatchObject({ members: [], owners: [null, null] });
  });

  it('a member that stopped reporting turns stale and its partitions have no owner (seen on tick)', () => {
    const g = new GroupView(1, 15_000);
    g.apply('em-1', report('em-1', [0], 1000), 1000);
    expect(g.tick(10_000)).toEqual([]);
    expect(g.tick(16_001)).toEqual([{ partition: 0, from: 'em-1', to: null, at: 16_001 }]);
    expect(g.snapshot(16_001).members[0]!.state).toBe('stale');
  });

  it('ignores partitions outside the configured count instead of failing', () => {
    const g = new GroupView(2, 15_000);
    g.apply('em-1', report('em-1', [0, 7], 1000), 1000);
    expect(g.snapshot(1000).owners).toEqual(['em-1', null]);
  });

  it('shows a new owner restoring a partition, with progress, and says when the restore ended', () => {
    const g = new GroupView(2, 15_000);
    const restoring = (restoredRecords: number) => [{ partition: 1, phase: 'reading-changelog', restoredRecords, toRead: 1000, startedAt: 1000 }];
    g.apply('em-1', report('em-1', [0], 1000), 1000);
    g.apply('em-2', report('em-2', [1], 1000, { restoring: restoring(100) }), 1000);
    expect(g.snapshot(1000).members[1]!.restoring).toEqual(restoring(100));
    expect(g.restoresDone()).toEqual([]);
    g.apply('em-2', report('em-2', [1], 2000, { restoring: restoring(600) }), 2000);
    expect(g.snapshot(2000).members[1]!.restoring[0]!.restoredRecords).toBe(600);
    expect(g.restoresDone()).toEqual([]);
    g.apply('em-2', report('em-2', [1], 3500), 3500);
    expect(g.snapshot(3500).members[1]!.restoring).toEqual([]);
    expect(g.restoresDone()).toEqual([{ partition: 1, memberId: 'em-2', records: 600, ms: 2500, at: 3500 }]);
    expect(g.restoresDone()).toEqual([]); // told once
  });

  it('a restore cut short by a revocation is a move, not a restore done', () => {
    const g = new GroupView(2, 15_000);
    g.apply(
      'em-2',
      report('em-2', [1], 1000, { restoring: [{ partition: 1, phase: 'reading-changelog', restoredRecords: 5, toRead: 10, startedAt: 900 }] }),
      1000,
    );
    expect(g.apply('em-2', report('em-2', [], 2000), 2000)).toEqual([{ partition: 1, from: 'em-2', to: null, at: 2000 }]);
    expect(g.restoresDone()).toEqual([]);
  });
});
