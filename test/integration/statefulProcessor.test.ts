// State stores backed by compacted changelogs, through the real broker:
// counts kept per key survive a member stopping, a member joining (partitions
// move with their state, restored before processing resumes), and an aborted
// transaction (its state changes are discarded with it). Per key, the counts
// seen downstream must be exactly 1..n: nothing lost, nothing counted twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { createTopicsAndWait, withAdmin } from '../../kafka/kafkaAdmin.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { TransactionalProcessor } from '../../kafka/transactionalProcessor.ts';
import { readTopic } from '../support/topicReader.ts';
import { eventually } from '../support/wait.ts';

const s = loadSettings();
const prefix = `it-stateful-${Date.now().toString(36)}.`;
const input = `${prefix}input`;
const changelog = `${prefix}counts-changelog`;
const output = `${prefix}output`;
const P = 4;
let producer: RecordProducer;

beforeAll(async () => {
  await withAdmin(s.kafka.brokers, (a) =>
    createTopicsAndWait(a, [
      { topic: input, numPartitions: P },
      { topic: output, numPartitions: P },
      { topic: changelog, numPartitions: P, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
    ]),
  );
  producer = new RecordProducer(s.kafka.brokers, 'it-stateful', 15_000);
  await producer.connect();
});

afterAll(async () => {
  await producer?.close();
  await withAdmin(s.kafka.brokers, (a) => a.deleteTopics({ topics: [input, output, changelog] })).catch(() => {});
});

function member(id: string, failFirstBatch = false): TransactionalProcessor<number> {
  let failed = false;
  return new TransactionalProcessor<number>({
    brokers: s.kafka.brokers,
    clientId: `it-stateful-${id}`,
    groupId: `${prefix}group`,
    inputTopics: [input],
    transactionalId: `${prefix}${id}`,
    maxBatch: 50,
    store: {
      changelogTopic: changelog,
      encode: (n) => {
        const b = Buffer.alloc(8);
        b.writeBigInt64BE(BigInt(n));
        return b;
      },
      decode: (b) => Number(b.readBigInt64BE()),
    },
    process: (batch, ctx) => {
      const out = [];
      for (const r of batch) {
        const store = ctx.store(r.partition);
        const n = (store.get(r.key!) ?? 0) + 1;
        store.put(r.key!, n);
        out.push({ topic: output, key: r.key, value: Buffer.from(`${r.key}:${n}`) });
      }
      // An injected failure after the state was changed: the abort must discard it.
      if (failFirstBatch && !failed) {
        failed = true;
        throw new Error('injected failure after state writes');
      }
      return out;
    },
  });
}

async function send(from: number, to: number): Promise<void> {
  await Promise.all(Array.from({ length: to - from }, (_, k) => producer.send(input, `key-${(from + k) % 20}`, Buffer.from(String(from + k)))));
}

function checkContiguous(values: string[]): Map<string, number> {
  const byKey = new Map<string, number[]>();
  for (const v of values) {
    const [k, n] = v.split(':');
    byKey.set(k!, [...(byKey.get(k!) ?? []), Number(n)]);
  }
  const last = new Map<string, number>();
  for (const [k, ns] of byKey) {
    expect(ns, k).toEqual(Array.from({ length: ns.length }, (_, i) => i + 1));
    last.set(k, ns.length);
  }
  return last;
}

describe('stateful transactional processor', () => {
  it('keeps per-key state exactly once across an abort, a member leaving and a member joining', async () => {
    await send(0, 200);
    const a = member('a', true);
    await a.start();
    let got = await readTopic({ brokers: s.kafka.brokers, topic: output, partitions: P, count: 200, timeoutMs: 60_000, settleMs: 1000 });
    expect(a.stats.aborts).toBeGreaterThanOrEqual(1);
    checkContiguous(got.map((m) => m.value!.toString()));

    // A second member joins: partitions (and their state) are shared out.
    const b = member('b');
    await b.start();
    // Wait for the rebalance to hand b its share, restored from the changelog.
    await eventually('member b to be assigned and restored', () => b.stats.restores >= 1, { timeoutMs: 60_000 });
    await send(200, 400);
    got = await readTopic({ brokers: s.kafka.brokers, topic: output, partitions: P, count: 400, timeoutMs: 60_000, settleMs: 1500 });
    checkContiguous(got.map((m) => m.value!.toString()));
    expect(b.stats.restores).toBeGreaterThanOrEqual(1);
    expect(b.stats.restoredRecords).toBeGreaterThan(0);

    // The first member leaves: the survivor restores its partitions and goes on counting.
    const restoresBefore = b.stats.restores;
    await a.stop();
    await eventually("member b to take over a's partitions", () => b.stats.restores > restoresBefore, { timeoutMs: 60_000 });
    await send(400, 600);
    got = await readTopic({ brokers: s.kafka.brokers, topic: output, partitions: P, count: 600, timeoutMs: 60_000, settleMs: 1500 });
    const last = checkContiguous(got.map((m) => m.value!.toString()));
    expect([...last.values()].reduce((x, y) => x + y, 0)).toBe(600);
    expect([...last.values()].every((n) => n === 30)).toBe(true);
    await b.stop();
  });
});
