import { describe, expect, it } from 'vitest';
import { TrunkGroups } from './trunks.ts';

describe('TrunkGroups', () => {
  it('hands out circuits in rotation and never one still in use', () => {
    const t = new TrunkGroups(2);
    expect([t.seize(0, 0, 100), t.seize(0, 0, 5), t.seize(1, 0, 100)]).toEqual([1, 2, 1]);
    const seen = new Set<number>();
    for (let i = 0; i < 4093; i++) seen.add(t.seize(0, 1, 1000));
    expect(seen.size).toBe(4093);
    expect(seen.has(1) || seen.has(2)).toBe(false);
    // All 4095 busy now; at t=6 circuit 2 is free again, circuit 1 is not.
    expect(t.seize(0, 2, 1000)).toBe(-1);
    expect(t.seize(0, 6, 1000)).toBe(2);
    expect(t.seize(0, 6, 1000)).toBe(-1);
  });
});
