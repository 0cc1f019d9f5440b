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

  it('reserve() grows the buffer once for what a restore will add: no compaction while it is added', () => {
    const s = new ByteSlab();
    s.set('before', Buffer.from('kept'));
    const values = Array.from({ length: 5_000 }, (_, i) => Buffer.alloc(50 + (i % 100), i % 251));
    const bytes = values.reduce((n, v) => n + v.length, 0);
    s.reserve(bytes, values.length);
    const reserved = s.capacity;
    expect(reserved).toBeGreaterThanOrEqual(bytes + 4 * values.length);
    values.forEach((v, i) => s.set(`k${i}`, v));
    expect(s.capacity).toBe(reserved);
    expect(s.get('before')).toEqual(Buffer.from('kept'));
    values.forEach((v, i) => expect(s.get(`k${i}`)).toEqual(v));
    // Room already there: nothing moves.
    s.reserve(10, 1);
    expect(s.capacity).toBe(reserved);
  });
});
