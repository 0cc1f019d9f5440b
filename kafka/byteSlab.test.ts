import { describe, expect, it } from 'vitest';
import { ByteSlab } from './byteSlab.ts';

describe('byte slab', () => {
  it('keeps values of any length by key, overwrites and deletes, and survives compactions', () => {
    const s = new ByteSlab();
    const expected = new Map<string, Buffer>();
    // Enough overwrites to fill the initial 64 KiB several times over.
    for (let i = 0; i < 6_000; i++) {
      const key = `k${i % 700}`;
      if (i % 11 === 0) {
        s.delete(key);
        expected.delete(key);
        continue;
      }
      const v = Buffer.alloc((i * 7) % 300, i % 251);
      s.set(key, v);
      expected.set(key, v);
    }
    expect(s.size).toBe(expected.size);
    for (const [k, v] of expected) expect(s.get(k)).toEqual(v);
    expect(new Map([...s.entries()].map(([k, v]) => [k, Buffer.from(v)]))).toEqual(expected);
    expect(s.get('missing')).toBeUndefined();
    expect(s.delete('missing')).toBe(false);
    // Live data is ~700 × 150 B: garbage does not accumulate.
    expect(s.capacity).toBeLessThan(4 * 700 * 300);
  });
});
