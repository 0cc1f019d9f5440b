import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { murmur2, partitionOf } from './partitioner.ts';

// kafkajs's port of the Java client's murmur2 is the oracle.
const kafkajsMurmur2 = createRequire(import.meta.url)('kafkajs/src/producer/partitioners/default/murmur2.js') as (k: Buffer) => number;

describe('murmur2 partitioner', () => {
  it('matches the Java client (via kafkajs) on keys of every tail length', () => {
    const keys = ['', 'a', 'ab', 'abc', 'abcd', 'msisdn:+351910000001', 'imsi:001011356567851', 'aor:sip:alice@ims.example.net', 'ünïcödé', 'x'.repeat(1000)];
    for (let i = 0; i < 500; i++) keys.push(`msisdn:+9997${String(i * 7919).padStart(9, '0')}`);
    for (const k of keys) expect(murmur2(Buffer.from(k)), k).toBe(kafkajsMurmur2(Buffer.from(k)));
  });

  it('spreads subscribers over partitions', () => {
    const counts = new Array(12).fill(0);
    for (let i = 0; i < 12_000; i++) counts[partitionOf(`msisdn:+351${910_000_000 + i}`, 12)]++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });
});
