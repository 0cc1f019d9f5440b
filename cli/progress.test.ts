import { describe, expect, it } from 'vitest';
import { formatDuration, progressLine } from './progress.ts';

const at = (elapsedMs: number, total?: number) => ({ label: 'replay', total, tty: false, elapsedMs });

describe('progress line', () => {
  it('shows share done and an ETA from the mean rate when the total is known', () => {
    expect(progressLine(at(10_000, 1000), 250, 'frames')).toBe('replay  25.0% 250/1,000 (25/s, 10.0s, eta 30s) frames');
  });

  it('takes the share from a fraction when the count has no total (bytes read vs frames decoded)', () => {
    expect(progressLine(at(60_000), 9000, 'frames', 0.2)).toBe('replay  20.0% 9,000 (150/s, 60.0s, eta 4m00s) frames');
  });

  it('says no ETA before any progress, nor at the end, nor without a total', () => {
    expect(progressLine(at(1000, 100), 0)).not.toContain('eta');
    expect(progressLine(at(1000, 100), 100)).not.toContain('eta');
    expect(progressLine(at(1000), 50)).toBe('replay 50 (50/s, 1.0s)');
  });

  it('formats durations short', () => {
    expect([formatDuration(5), formatDuration(185), formatDuration(3720), formatDuration(-3)]).toEqual(['5s', '3m05s', '1h02m', '0s']);
  });
});
