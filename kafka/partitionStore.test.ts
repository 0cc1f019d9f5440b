// The partition store: this batch's writes first, committed or discarded with
// its transaction; with a codec the committed values are kept as bytes.
import { describe, expect, it } from 'vitest';
import { PartitionStore, type StoreCodec } from './partitionStore.ts';

interface Counter {
  name: string;
  n: number;
}
/** JSON behind a version byte: 2 is current, 1 is an older shape ({ count } for n). */
const codec: StoreCodec<Counter> & { encodes: number; decodes: number } = {
  encodes: 0,
  decodes: 0,
  encode(v) {
    this.encodes++;
    return Buffer.concat([Buffer.from([2]), Buffer.from(JSON.stringify(v))]);
  },
  decode(b) {
    this.decodes++;
    if (b[0] !== 2) throw new Error('not the current encoding');
    return JSON.parse(b.subarray(1).toString()) as Counter;
  },
  isCurrent: (b) => b[0] === 2,
};
const oldShape = (name: string, count: number) => Buffer.concat([Buffer.from([1]), Buffer.from(JSON.stringify({ name, count }))]);
const decodeOld = (b: Buffer): Counter => {
  const o = JSON.parse(b.subarray(1).toString()) as { name: string; count?: number; n?: number };
  return { name: o.name, n: o.n ?? o.count ?? 0 };
};

describe('a compact partition store', () => {
  it('round trip: committed values are kept encoded and read back as fresh objects', () => {
    const st = new PartitionStore<Counter>(0, codec);
    st.put('a', { name: 'a', n: 1 });
    st.put('b', { name: 'b', n: 2 });
    st.commit();
    expect(st.compact).toBe(true);
    expect(st.size).toBe(2);
    const a1 = st.get('a')!;
    expect(a1).toEqual({ name: 'a', n: 1 });
    a1.n = 99; // a read is a copy: changing it changes nothing held
    expect(st.get('a')).toEqual({ name: 'a', n: 1 });
    expect(st.get('a')).not.toBe(st.get('a'));
    expect([...st.entries()]).toEqual([
      ['a', { name: 'a', n: 1 }],
      ['b', { name: 'b', n: 2 }],
    ]);
    expect(st.encodedBytes).toBeGreaterThan(0);
  });

  it('encodes each write once: the changelog bytes are the bytes committed', () => {
    const st = new PartitionStore<Counter>(1, codec);
    st.put('a', { name: 'a', n: 1 });
    const before = codec.encodes;
    const sent = [...st.pendingEncoded((v) => codec.encode(v))];
    st.commit();
    expect(codec.encodes - before).toBe(1);
    expect([...st.encodedEntries((v) => codec.encode(v))].map(([k, b]) => [k, Buffer.from(b)])).toEqual(sent);
  });

  it('rollback discards the batch: reads, size and later commits see the committed state only', () => {
    const st = new PartitionStore<Counter>(0, codec);
    st.put('a', { name: 'a', n: 1 });
    st.commit();
    st.put('a', { name: 'a', n: 2 });
    st.put('c', { name: 'c', n: 3 });
    st.delete('a');
    expect(st.get('a')).toBeUndefined();
    expect(st.has('c')).toBe(true);
    st.rollback();
    st.commit();
    expect(st.get('a')).toEqual({ name: 'a', n: 1 });
    expect(st.has('c')).toBe(false);
    expect(st.size).toBe(1);
  });

  it('getForUpdate: a decode of the committed bytes as it is, a copy of a value written in this batch', () => {
    const st = new PartitionStore<Counter>(0, codec);
    st.put('a', { name: 'a', n: 1 });
    st.commit();
    const copies: Counter[] = [];
    const copy = (v: Counter) => (copies.push(v), { ...v });
    const m = st.getForUpdate('a', copy)!;
    expect(copies).toHaveLength(0);
    m.n = 5;
    st.put('a', m);
    const again = st.getForUpdate('a', copy)!;
    expect(copies).toEqual([m]);
    again.n = 6; // a record that fails half-way must not leave its change in the batch's write
    expect(st.get('a')).toEqual({ name: 'a', n: 5 });
    expect(st.getForUpdate('zz', copy)).toBeUndefined();
  });

  it('restores current bytes as they are and an old-shape record through decode, and tombstones delete', () => {
    const st = new PartitionStore<Counter>(0, codec);
    const current = codec.encode({ name: 'a', n: 7 });
    const old = oldShape('b', 3);
    expect(st.acceptsEncoded(current)).toBe(true);
    expect(st.acceptsEncoded(old)).toBe(false);
    const decodes = codec.decodes;
    st.restoreEncoded('a', current);
    expect(codec.decodes).toBe(decodes); // not decoded to restore
    st.restore('b', decodeOld(old));
    st.restore('gone', { name: 'gone', n: 1 });
    st.restore('gone', null);
    expect(st.get('a')).toEqual({ name: 'a', n: 7 });
    expect(st.get('b')).toEqual({ name: 'b', n: 3 });
    expect(st.has('gone')).toBe(false);
    expect(st.size).toBe(2);
  });

  it('overwrites many times without growing without bound (garbage is compacted away)', () => {
    const st = new PartitionStore<Counter>(0, codec);
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 2000; i++) st.put(`k${i}`, { name: `k${i}`, n: round });
      st.commit();
    }
    expect(st.size).toBe(2000);
    expect(st.get('k1999')).toEqual({ name: 'k1999', n: 49 });
    // ~30 B per value live: the buffer stays near the live bytes, not 50 rounds of them.
    expect(st.encodedBytes).toBeLessThan(256 * 1024);
  });

  it('participants commit and roll back with the store', () => {
    const st = new PartitionStore<Counter>(0, codec);
    const calls: string[] = [];
    const p = { commit: () => calls.push('commit'), rollback: () => calls.push('rollback') };
    st.enlist(p);
    st.enlist(p);
    st.commit();
    st.rollback();
    expect(calls).toEqual(['commit', 'rollback']);
  });
});

describe('a partition store without a codec', () => {
  it('keeps objects: getForUpdate copies the committed value, so a change survives no abort', () => {
    const st = new PartitionStore<Counter>(0);
    st.put('a', { name: 'a', n: 1 });
    st.commit();
    expect(st.compact).toBe(false);
    const m = st.getForUpdate('a', (v) => ({ ...v }))!;
    m.n = 2;
    st.rollback();
    expect(st.get('a')).toEqual({ name: 'a', n: 1 });
    expect([...st.encodedEntries((v) => codec.encode(v))].map(([k]) => k)).toEqual(['a']);
  });
});
