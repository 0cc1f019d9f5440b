// Co-partitioning checked, not assumed (issue 12, defect 9). During a rolling
// upgrade that adds an input topic, members subscribe to different topic sets
// and the assignor places partition p of the new topic on one member and p of
// the old topics on another: two members would write changelog p. The member
// holding only part of p must refuse to process it. Also: input topics with
// different partition counts are refused at start.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { createTopicsAndWait, withAdmin } from '../../kafka/kafkaAdmin.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { TransactionalProcessor } from '../../kafka/transactionalProcessor.ts';
import { eventually, sleep } from '../support/wait.ts';

const s = loadSettings();
const prefix = `it-copart-${Date.now().toString(36)}.`;
const [a, b, c, changelog, output, odd] = ['a', 'b', 'c', 'changelog', 'output', 'odd'].map((n) => `${prefix}${n}`) as [
  string,
  string,
  string,
  string,
  string,
  string,
];
const P = 4;
let producer: RecordProducer;
/** partition → members that processed a record of it (and so wrote its changelog). */
const writers = new Map<number, Set<string>>();

function member(id: string, inputTopics: string[]): TransactionalProcessor<number> {
  return new TransactionalProcessor<number>({
    brokers: s.kafka.brokers,
    clientId: `${prefix}${id}`,
    groupId: `${prefix}group`,
    inputTopics,
    transactionalId: `${prefix}${id}`,
    maxBatch: 50,
    store: { changelogTopic: changelog, encode: (n) => Buffer.from(String(n)), decode: (v) => Number(v.toString()) },
    process: (batch, ctx) =>
      batch.map((r) => {
        const st = ctx.store(r.partition);
        st.put(r.key!, (st.get(r.key!) ?? 0) + 1);
        writers.set(r.partition, (writers.get(r.partition) ?? new Set()).add(id));
        return { topic: output, key: r.key, value: Buffer.from(id) };
      }),
  });
}

beforeAll(async () => {
  await withAdmin(s.kafka.brokers, (adm) =>
    createTopicsAndWait(adm, [
      ...[a, b, c, output].map((topic) => ({ topic, numPartitions: P })),
      { topic: changelog, numPartitions: P, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
      { topic: odd, numPartitions: P + 2 },
    ]),
  );
  producer = new RecordProducer(s.kafka.brokers, `${prefix}producer`, 15_000);
  await producer.connect();
});

afterAll(async () => {
  await producer?.close();
  await withAdmin(s.kafka.brokers, (adm) => adm.deleteTopics({ topics: [a, b, c, changelog, output, odd] })).catch(() => {});
});

describe('co-partitioning', () => {
  it('never lets two members process the same partition number when subscriptions differ (rolling upgrade adding a topic)', async () => {
    const old = member('old', [a, b]);
    const upgraded = member('upgraded', [a, b, c]);
    await old.start();
    await upgraded.start();
    try {
      // Both members hold something, and the upgraded one holds the new topic.
      await eventually(
        'both members assigned',
        () =>
          old.assignments().length > 0 &&
          upgraded.assignments().some((tp) => tp.topic === c) &&
          old.assignments().length + upgraded.assignments().length === 3 * P,
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      // The cooperative protocol reaches this count between its two rounds too (the old
      // member still holding what it is about to revoke); a partition then handed over
      // legitimately would have two writers one after the other. Wait for an assignment
      // that stays put before any record exists.
      const owners = (): string =>
        JSON.stringify([old.assignments(), upgraded.assignments()].map((tps) => tps.map((tp) => `${tp.topic}-${tp.partition}`).sort()));
      let seen = owners();
      let since = Date.now();
      await eventually(
        'assignment stable for 3 s',
        () => {
          const now = owners();
          if (now !== seen) [seen, since] = [now, Date.now()];
          return Date.now() - since >= 3_000 && old.assignments().length + upgraded.assignments().length === 3 * P;
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      // Records on every partition of every topic (40 keys cover all 4 partitions).
      for (let round = 0; round < 3; round++) {
        await Promise.all([a, b, c].flatMap((t) => Array.from({ length: 40 }, (_, k) => producer.send(t, `key-${k}`, Buffer.from(String(round))))));
        await sleep(500);
      }
      await eventually('records processed', () => old.stats.records > 0 && upgraded.stats.records > 0, { timeoutMs: 30_000 });
      await sleep(2_000);
      const shared = [...writers].filter(([, ids]) => ids.size > 1).map(([p, ids]) => `partition ${p}: ${[...ids].join(' and ')}`);
      expect(shared).toEqual([]);
      // The member holding only the new topic's partition refuses it, and says which.
      expect(upgraded.splitPartitions().length).toBeGreaterThan(0);
      expect(upgraded.copartitionRefusals).toBeGreaterThan(0);
      for (const p of upgraded.splitPartitions()) expect(upgraded.ctx.partitions()).not.toContain(p);
    } finally {
      await Promise.all([old.stop(), upgraded.stop()]);
    }
  });

  it('refuses to start when the input topics have different partition counts', async () => {
    const bad = member('bad', [a, odd]);
    await expect(bad.start()).rejects.toThrow(/same number of partitions: .*a=4, .*odd=6/);
    await bad.stop().catch(() => {});
  });
});
