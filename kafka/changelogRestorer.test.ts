import { describe, expect, it } from 'vitest';
import { restoreProgress } from './changelogRestorer.ts';

describe('restore progress line', () => {
  it('says records restored of the offsets to read, the rate and the time left', () => {
    expect(restoreProgress('p.changelog', [0, 3], 120_000, 1_000_000, 3000)).toBe(
      'restoring p.changelog partitions 0,3: 120,000 of ≤1,000,000 records (12%), 40,000/s, ~22 s left',
    );
  });

  it('caps the share at 100% (markers and compaction make the offsets an upper bound) and says no time left without a rate', () => {
    expect(restoreProgress('t', [1], 10, 8, 1000)).toBe('restoring t partitions 1: 10 of ≤8 records (100%), 10/s, ~0 s left');
    expect(restoreProgress('t', [1], 0, 8, 0)).toBe('restoring t partitions 1: 0 of ≤8 records (0%), 0/s');
  });
});
