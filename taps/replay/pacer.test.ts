import { describe, expect, it } from 'vitest';
import { ReplayPacer, parseSpeed } from './pacer.ts';

describe('replay pacer', () => {
  it("keeps the capture's own spacing, scaled by speed", () => {
    let now = 1000;
    const p = new ReplayPacer(2, () => now);
    expect(p.delayFor(5_000_000_000n)).toBe(0); // first frame: due at once
    expect(p.delayFor(7_000_000_000n)).toBe(1000); // 2 s later in the capture, at 2× → 1 s
    now += 400;
    expect(p.delayFor(7_000_000_000n)).toBe(600);
    now += 5000;
    expect(p.delayFor(7_500_000_000n)).toBe(0); // already late: no wait
  });

  it('does not wait at all at max speed', () => {
    const p = new ReplayPacer(Infinity, () => 0);
    expect(p.delayFor(1n)).toBe(0);
    expect(p.delayFor(10_000_000_000n)).toBe(0);
  });

  it('parses speeds and rejects nonsense', () => {
    expect(parseSpeed('max')).toBe(Infinity);
    expect(parseSpeed('10x')).toBe(10);
    expect(parseSpeed('0.5')).toBe(0.5);
    expect(() => parseSpeed('0')).toThrow(/positive/);
    expect(() => parseSpeed('fast')).toThrow(/positive/);
  });
});
