import { describe, expect, it } from 'vitest';
import { PhaseRing } from './phaseRing.ts';

/** Every event of every member in [t0,t1), by brute force over members. */
function brute(r: PhaseRing, t0: number, t1: number, offset: number): string[] {
  const out: string[] = [];
  for (let j = 0; j < r.members; j++) {
    const ph = r.phase(j);
    for (let k = Math.floor((t0 - offset - ph) / r.period) - 1; ; k++) {
      const t = ph + k * r.period + offset;
      if (t >= t1) break;
      if (t >= t0) out.push(`${j}@${k}`);
    }
  }
  return out.sort();
}

describe('PhaseRing', () => {
  it.each([1, 2, 7, 100, 997, 1000])('finds exactly the events of %i members in any window', (m) => {
    const r = new PhaseRing(m, 60, 42, 3);
    for (const [t0, t1, off] of [
      [0, 1, 0],
      [0, 60, 0],
      [59.5, 61.25, 0],
      [100, 250, 7.5],
      [-30, 10, 45],
    ] as const) {
      const got: string[] = [];
      r.each(t0, t1, off, (j, t, k) => {
        expect(t).toBeGreaterThanOrEqual(t0);
        expect(t).toBeLessThan(t1);
        got.push(`${j}@${k}`);
      });
      expect(got.sort()).toEqual(brute(r, t0, t1, off));
    }
  });

  it('spreads phases over the period and back-to-back windows see each event once', () => {
    const r = new PhaseRing(5000, 100, 1, 1);
    const seen = new Uint8Array(5000);
    for (let t = 0; t < 100; t += 0.37) r.each(t, Math.min(100, t + 0.37), 0, (j) => seen[j]!++);
    expect(seen.every((c) => c === 1)).toBe(true);
    const firstHalf = Array.from({ length: 5000 }, (_, j) => r.phase(j)).filter((p) => p < 50).length;
    expect(firstHalf).toBeGreaterThan(2300);
    expect(firstHalf).toBeLessThan(2700);
  });

  it('sinceLast is the time since the latest event', () => {
    const r = new PhaseRing(10, 30, 9, 2);
    const ph = r.phase(4);
    expect(r.sinceLast(4, ph + 65, 0)).toBeCloseTo(5, 9);
    expect(r.sinceLast(4, ph + 65, 10)).toBeCloseTo(25, 9);
  });
});
