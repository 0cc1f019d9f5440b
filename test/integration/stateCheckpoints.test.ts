// Local state checkpoints through the real broker (kafka/stateCheckpointer.ts): a
// member stopped and started again with the same state directory loads its
// checkpoints and reads only the changelog after them — records another member
// wrote meanwhile included — and ends with the state a full restore gives. A
// checkpoint whose offset the changelog no longer reaches (records deleted) is
// refused with its reason and the store restored in full, as is one of a changelog
// deleted and created again (another topic id). Counts per key seen
// downstream stay exactly 1..n throughout.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { changelogIdentity } from '../../kafka/changelogIdentity.ts';
import { ChangelogRestorer } from '../../kafka/changelogRestorer.ts';
import { createTopicsAndWait, withAdmin } from '../../kafka/kafkaAdmin.ts';
import { PartitionStore } from '../../kafka/partitionStore.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { checkpointPath, readCheckpoint } from '../../kafka/stateCheckpointFile.ts';
import { TransactionalProcessor } from '../../kafka/transactionalProcessor.ts';
import { readTopic } from '../support/topicReader.ts';
import { eventually } from '../support/wait.ts';

const s = loadSettings();
const prefix = `it-checkpoint-${Date.now().toString(36)}.`;
const input = `${prefix}input`;
const changelog = `${prefix}counts-changelog`;
const output = `${prefix}output`;
const P = 2;
const KEYS = 20;
let producer: RecordProducer;
let stateDir: string;

beforeAll(async () => {
  await withAdmin(s.kafka.brokers, (a) =>
    createTopicsAndWait(a, [
      { topic: input, numPartitions: P },
      { topic: output, numPartitions: P },
      // compact,delete: DeleteRecords is refused on a compact-only topic, and the test deletes records.
      { topic: changelog, numPartitions: P, configEntries: [{ name: 'cleanup.policy', value: 'compact,delete' }] },
    ]),
  );
  producer = new RecordProducer(s.kafka.brokers, 'it-checkpoint', 15_000);
  await producer.connect();
  stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'it-checkpoint-'));
});

afterAll(async () => {
  await producer?.close();
  await withAdmin(s.kafka.brokers, (a) => a.deleteTopics({ topics: [input, output, changelog] })).catch(() => {});
  if (stateDir) await fs.rm(stateDir, { recursive: true, force: true });
});

const codec = {
  encode: (n: number) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt(n));
    return b;
  },
  decode: (b: Buffer) => Number(b.readBigInt64BE()),
};

/** A counting member; with `dir`, it keeps state checkpoints there. */
function member(id: string, dir?: string): TransactionalProcessor<number> {
  return new TransactionalProcessor<number>({
    brokers: s.kafka.brokers,
    clientId: `it-checkpoint-${id}`,
    groupId: `${prefix}group`,
    inputTopics: [input],
    transactionalId: `${prefix}${id}`,
    maxBatch: 50,
    store: { changelogTopic: changelog, ...codec },
    ...(dir ? { checkpoints: { dir, intervalMs: 200, maxAgeMs: 3_600_000 } } : {}),
    process: (batch, ctx) =>
      batch.map((r) => {
        const store = ctx.store(r.partition);
        const n = (store.get(r.key!) ?? 0) + 1;
        store.put(r.key!, n);
        return { topic: output, key: r.key, value: Buffer.from(`${r.key}:${n}`) };
      }),
  });
}

async function send(from: number, to: number): Promise<void> {
  await Promise.all(Array.from({ length: to - from }, (_, k) => producer.send(input, `key-${(from + k) % KEYS}`, Buffer.from(String(from + k)))));
}

/** Every key's counts downstream are 1..n; returns n per key. */
async function countsDownstream(total: number): Promise<Map<string, number>> {
  const got = await readTopic({ brokers: s.kafka.brokers, topic: output, partitions: P, count: total, timeoutMs: 60_000, settleMs: 1000 });
  const byKey = new Map<string, number[]>();
  for (const m of got) {
    const [k, n] = m.value!.toString().split(':');
    byKey.set(k!, [...(byKey.get(k!) ?? []), Number(n)]);
  }
  for (const [k, ns] of byKey) expect(ns, k).toEqual(Array.from({ length: ns.length }, (_, i) => i + 1));
  expect(got.length).toBe(total);
  return new Map([...byKey].map(([k, ns]) => [k, ns.length]));
}

/** A member's stores as sorted "key=value" lines. */
function storeLines(m: TransactionalProcessor<number>): string[] {
  return m.ctx
    .partitions()
    .flatMap((p) => [...m.ctx.store(p).entries()].map(([k, v]) => `${p}:${k}=${v}`))
    .sort();
}

/** What a restore of the whole changelog gives, and how many records it reads. */
async function fullRestore(): Promise<{ lines: string[]; records: number }> {
  const restorer = new ChangelogRestorer<number>(s.kafka.brokers, changelog, codec.decode);
  try {
    const stores = Array.from({ length: P }, (_, p) => new PartitionStore<number>(p));
    const results = await Promise.all(stores.map((st) => restorer.restore(st)));
    return {
      lines: stores.flatMap((st) => [...st.entries()].map(([k, v]) => `${st.partition}:${k}=${v}`)).sort(),
      records: results.reduce((a, r) => a + r.records, 0),
    };
  } finally {
    await restorer.close();
  }
}

describe('state checkpoints', () => {
  it('a restarted member loads its checkpoints and reads only the changelog tail; records deleted past a checkpoint, or the changelog created again, force a full restore', async () => {
    // 1. Member a counts 200 records and stops: a clean stop writes its checkpoints.
    await send(0, 200);
    const a = member('a', stateDir);
    await a.start();
    await countsDownstream(200);
    await a.stop();
    expect(a.stats.checkpoints.fallbacks.missing).toBe(P);
    expect(a.stats.checkpoints.writes).toBeGreaterThanOrEqual(P);
    const ids = await changelogIdentity(s.kafka.brokers, changelog);
    const expectation = (p: number) => ({ topic: changelog, partition: p, ...ids, maxAgeMs: 3_600_000 });
    const firstOffsets = await Promise.all(
      Array.from({ length: P }, async (_, p) => (await readCheckpoint(checkpointPath(stateDir, changelog, p), expectation(p))).offset),
    );
    expect(firstOffsets.every((o) => o >= 0)).toBe(true);

    // 2. Member b (no checkpoints) goes on with 100 more records while a is away.
    const b = member('b');
    await b.start();
    await send(200, 300);
    await countsDownstream(300);
    await b.stop();

    // 3. a again, same state directory: checkpoint + tail (b's records), the same state as a full restore.
    const a2 = member('a', stateDir);
    await a2.start();
    await eventually('a2 to restore its partitions', () => a2.stats.restores >= P, { timeoutMs: 60_000 });
    const full = await fullRestore();
    expect(a2.stats.checkpoints.loads).toBe(P);
    expect(a2.stats.checkpoints.loadedEntries).toBe(KEYS);
    expect(a2.stats.restores).toBe(P);
    // b wrote at most one changelog record per input record (fewer: a batch writes a key once).
    expect(a2.stats.restoredRecords).toBeGreaterThan(0);
    expect(a2.stats.restoredRecords).toBeLessThanOrEqual(100);
    expect(a2.stats.restoredRecords).toBeLessThan(full.records);
    expect(storeLines(a2)).toEqual(full.lines);
    expect(storeLines(a2)).toHaveLength(KEYS);
    // And it counts on from there.
    await send(300, 400);
    const counts = await countsDownstream(400);
    expect([...counts.values()].every((n) => n === 400 / KEYS)).toBe(true);
    await a2.stop();
    const secondOffsets = await Promise.all(
      Array.from({ length: P }, async (_, p) => (await readCheckpoint(checkpointPath(stateDir, changelog, p), expectation(p))).offset),
    );
    secondOffsets.forEach((o, p) => expect(o).toBeGreaterThan(firstOffsets[p]!));

    // 4. b writes more; then the changelog loses the records right after a's checkpoints.
    const b2 = member('b');
    await b2.start();
    await send(400, 500);
    await countsDownstream(500);
    await b2.stop();
    await withAdmin(s.kafka.brokers, async (ad) => {
      await ad.fetchTopicMetadata({ topics: [changelog] }); // kafkajs' deleteTopicRecords needs it loaded
      for (let p = 0; p < P; p++) await ad.deleteTopicRecords({ topic: changelog, partitions: [{ partition: p, offset: String(secondOffsets[p]! + 3) }] });
    });
    const a3 = member('a', stateDir);
    await a3.start();
    await eventually('a3 to restore its partitions', () => a3.stats.restores >= P, { timeoutMs: 60_000 });
    expect(a3.stats.checkpoints.loads).toBe(0);
    expect(a3.stats.checkpoints.fallbacks['below-log-start']).toBe(P);
    expect(storeLines(a3)).toEqual((await fullRestore()).lines);
    await a3.stop();

    // 5. The changelog deleted and created again: the checkpoints a3 wrote name the old topic id.
    await withAdmin(s.kafka.brokers, (ad) => ad.deleteTopics({ topics: [changelog] }));
    await eventually('the changelog to be gone', async () => !(await withAdmin(s.kafka.brokers, (ad) => ad.listTopics())).includes(changelog), {
      timeoutMs: 30_000,
    });
    await withAdmin(s.kafka.brokers, (ad) =>
      createTopicsAndWait(ad, [{ topic: changelog, numPartitions: P, configEntries: [{ name: 'cleanup.policy', value: 'compact,delete' }] }]),
    );
    expect((await changelogIdentity(s.kafka.brokers, changelog)).topicId).not.toBe(ids.topicId);
    const a4 = member('a', stateDir);
    await a4.start();
    await eventually('a4 to restore its partitions', () => a4.stats.restores >= P, { timeoutMs: 60_000 });
    expect(a4.stats.checkpoints.loads).toBe(0);
    expect(a4.stats.checkpoints.fallbacks['other-topic']).toBe(P);
    expect(storeLines(a4)).toEqual([]);
    await a4.stop();
  });
});
