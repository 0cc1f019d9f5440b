import { describe, expect, it } from 'vitest';
import { inTimestampOrder } from './recordOrder.ts';
import type { InputRecord } from './processorTypes.ts';

const rec = (topic: string, partition: number, offset: number, timestamp: number | undefined): InputRecord => ({
  topic,
  partition,
  offset,
  key: null,
  value: null,
  timestamp,
});
const names = (rs: InputRecord[]) => rs.map((r) => `${r.topic}${r.offset}`);

describe('inTimestampOrder', () => {
  it('merges co-partitioned inputs by timestamp: a SUBSCRIBE stamped later waits behind older signaling', () => {
    const batch = [rec('sub', 0, 0, 5000), rec('sig', 0, 0, 1000), rec('sig', 0, 1, 2000), rec('sig', 0, 2, 6000)];
    expect(names(inTimestampOrder(batch))).toEqual(['sig0', 'sig1', 'sub0', 'sig2']);
  });

  it('never reorders a partition against its offsets, even when its timestamps go backwards', () => {
    const batch = [rec('a', 0, 0, 3000), rec('a', 0, 1, 1000), rec('b', 0, 0, 2000)];
    expect(names(inTimestampOrder(batch))).toEqual(['b0', 'a0', 'a1']);
  });

  it('keeps a record without a timestamp behind its predecessor, and ties in arrival order', () => {
    const batch = [rec('a', 0, 0, 1000), rec('a', 0, 1, undefined), rec('b', 0, 0, 1000), rec('b', 0, 1, 500)];
    expect(names(inTimestampOrder(batch))).toEqual(['a0', 'a1', 'b0', 'b1']);
  });

  it('leaves a single-partition batch as it is', () => {
    const batch = [rec('a', 0, 0, 3), rec('a', 0, 1, 1)];
    expect(inTimestampOrder(batch)).toBe(batch);
  });
});
