// The histogram's quantile bound, as the SIP front end's stats line reads it.
import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from './latencyHistogram.ts';

describe('LatencyHistogram.quantileBound', () => {
  it('names the bucket bound holding the quantile; undefined when empty, Infinity past the last bucket', () => {
    const h = new LatencyHistogram([0.01, 0.1, 1]);
    expect(h.quantileBound(0.5)).toBeUndefined();
    for (const s of [0.005, 0.005, 0.005, 0.05, 0.5, 0.5, 0.5, 0.5, 0.5, 5]) h.observe(s);
    expect(h.quantileBound(0.3)).toBe(0.01);
    expect(h.quantileBound(0.4)).toBe(0.1);
    expect(h.quantileBound(0.5)).toBe(1);
    expect(h.quantileBound(0.99)).toBe(Infinity);
  });
});
