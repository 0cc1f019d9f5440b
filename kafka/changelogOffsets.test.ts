import { describe, expect, it } from 'vitest';
import { ChangelogOffsets } from './changelogOffsets.ts';

describe('committed changelog offsets from delivery reports', () => {
  it('starts where the restore ended and moves on only with committed records, reports before or after the commit', () => {
    const o = new ChangelogOffsets();
    expect(o.offset(0)).toBeUndefined();
    o.restored(0, 100);
    expect(o.offset(0)).toBe(99);

    // Reports arrive before the commit: held until it commits.
    o.produced(0);
    o.produced(0);
    o.reported(0, 100, true);
    o.reported(0, 101, true);
    expect(o.offset(0)).toBe(99);
    o.settle(true);
    expect(o.offset(0)).toBe(101);

    // Committed first, reports after: each report moves it on.
    o.produced(0);
    o.produced(0);
    o.settle(true);
    expect(o.offset(0)).toBe(101);
    o.reported(0, 103, true);
    expect(o.offset(0)).toBe(103);
    o.reported(0, 104, true);
    expect(o.offset(0)).toBe(104);
  });

  it("never counts an aborted transaction's records, even when the next one's reports follow at once", () => {
    const o = new ChangelogOffsets();
    o.restored(2, 10);
    o.produced(2);
    o.produced(2);
    o.settle(false);
    o.produced(2);
    o.settle(true);
    // The aborted pair (written, then aborted), then the committed record: matched by order.
    o.reported(2, 10, true);
    o.reported(2, 11, true);
    expect(o.offset(2)).toBe(9);
    o.reported(2, 13, true);
    expect(o.offset(2)).toBe(13);
    // A purged record (abort before it was sent) is reported as failed, offset -1.
    o.produced(2);
    o.settle(false);
    o.reported(2, -1, false);
    o.produced(2);
    o.settle(true);
    o.reported(2, 16, true);
    expect(o.offset(2)).toBe(16);
  });

  it('keeps partitions apart, and forgets a partition that left (no checkpoint offset until restored again)', () => {
    const o = new ChangelogOffsets();
    o.restored(0, 5);
    o.restored(1, 50);
    o.produced(0);
    o.produced(1);
    o.settle(true);
    o.reported(1, 60, true);
    o.reported(0, 7, true);
    expect([o.offset(0), o.offset(1)]).toEqual([7, 60]);
    o.forget(1);
    o.produced(1);
    o.settle(true);
    o.reported(1, 61, true);
    expect(o.offset(1)).toBeUndefined();
    o.restored(1, 70);
    expect(o.offset(1)).toBe(69);
  });
});
