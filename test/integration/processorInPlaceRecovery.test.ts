// A processor member whose producer is fenced recovers in place (issue 12): as Kafka
// Streams treats a fenced producer as "task migrated" (close the tasks dirty, a new
// producer, restore), the member drops its stores' uncommitted state, makes a new
// producer of the same transactional id, restores its partitions from the changelogs
// and goes on — the process does not exit and no output is lost or written twice.
// Fenced for real: a second producer with the member's transactional id runs
// initTransactions on the shared broker (as a restarted twin would), or the member
// pauses inside a transaction until the coordinator aborts it (transaction.timeout.ms)
// and bumps its epoch. Past the bound on recoveries the member stops as before, saying why.
import Kafka from 'node-rdkafka';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { producerTopicConfig, transactionalProducerConfig } from '../../kafka/rdkafkaConfig.ts';
import { connectProducer, disconnect, initTransactions } from '../../kafka/rdkafkaPromises.ts';
import { TransactionalProcessor, type OutputRecord } from '../../kafka/transactionalProcessor.ts';
import { processorTopics } from '../support/processorTopics.ts';
import { readTopic } from '../support/topicReader.ts';
import { eventually } from '../support/wait.ts';

/** Armed: the next sendOffsetsToTransaction waits this long first — the member paused with its transaction's records sent. */
const pauseInTransaction = { ms: 0 };
vi.mock('../../kafka/rdkafkaPromises.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../kafka/rdkafkaPromises.ts')>();
  return {
    ...real,
    sendOffsetsToTransaction: async (...args: Parameters<typeof real.sendOffsetsToTransaction>) => {
      const ms = pauseInTransaction.ms;
      pauseInTransaction.ms = 0;
      if (ms > 0) await new Promise((r) => setTimeout(r, ms));
      return real.sendOffsetsToTransaction(...args);
    },
  };
});

const s = loadSettings();
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

/** Input, output and changelog topics of one test, under a prefix of its own. */
const topics = (name: string, partitions: number) => processorTopics('recover', name, partitions, cleanups);

/** A twin with the member's transactional id: its initTransactions fences the member's producer epoch. */
async function fence(transactionalId: string): Promise<void> {
  const twin = new Kafka.Producer(transactionalProducerConfig({ brokers: s.kafka.brokers, clientId: 'it-recover-twin' }, transactionalId), producerTopicConfig);
  await connectProducer(twin);
  await initTransactions(twin, 15_000);
  await disconnect(twin);
}

/** A counting member: per key, outputs `key:n` with n from its store (restored from the changelog). */
function counter(t: Awaited<ReturnType<typeof topics>>, extra: { maxProducerRecoveries?: number; transactionTimeoutMs?: number } = {}) {
  return new TransactionalProcessor<number>({
    brokers: s.kafka.brokers,
    clientId: `it-recover-${t.prefix}`,
    groupId: `${t.prefix}group`,
    inputTopics: [t.input],
    transactionalId: `${t.prefix}member`,
    store: { changelogTopic: t.changelog, encode: (n: number) => Buffer.from(String(n)), decode: (b: Buffer) => Number(b.toString()) },
    ...extra,
    process: (batch, ctx) => {
      const out: OutputRecord[] = [];
      for (const r of batch) {
        const st = ctx.store(r.partition);
        const n = (st.get(r.key!) ?? 0) + 1;
        st.put(r.key!, n);
        out.push({ topic: t.output, key: r.key, value: Buffer.from(`${r.key}:${n}`) });
      }
      return out;
    },
  });
}

/** Per key, the counts downstream must be 1..n: nothing lost, nothing twice. */
function expectContiguous(values: string[]): number {
  const byKey = new Map<string, number[]>();
  for (const v of values) {
    const [k, n] = v.split(':');
    byKey.set(k!, [...(byKey.get(k!) ?? []), Number(n)]);
  }
  for (const [k, ns] of byKey) expect(ns, k).toEqual(Array.from({ length: ns.length }, (_, i) => i + 1));
  return values.length;
}

const send = (t: Awaited<ReturnType<typeof topics>>, from: number, n: number) =>
  Promise.all(Array.from({ length: n }, (_, i) => t.producer.send(t.input, `key-${(from + i) % 6}`, Buffer.from(String(from + i)))));

describe('in-place recovery of a fenced processor member', () => {
  it('a fenced member drops its uncommitted state, takes a new producer, restores and goes on: every output exactly once', async () => {
    const t = await topics('fenced', 3);
    const member = counter(t);
    let ended: unknown = 'running';
    await send(t, 0, 30);
    await member.start();
    void member.done().then(
      () => (ended = 'ended'),
      (e: unknown) => (ended = e),
    );
    try {
      await eventually('the first records processed', () => member.stats.records >= 30, { timeoutMs: 60_000 });
      const restoresBefore = member.stats.restores;
      await fence(`${t.prefix}member`);
      // The next transaction finds the producer fenced.
      const started = Date.now();
      await send(t, 30, 30);
      await eventually('the member to recover in place', () => member.stats.producerRecoveries >= 1, { timeoutMs: 60_000 });
      await eventually('the records after the fence processed', () => member.stats.records >= 60, { timeoutMs: 60_000 });
      console.log(
        `fenced → records processed again after ${Date.now() - started} ms; recoveries ${member.stats.producerRecoveries}, ` +
          `restores ${restoresBefore} → ${member.stats.restores}, aborts ${member.stats.aborts}; last error: ${member.stats.lastError}`,
      );
      // Its partitions were restored from the changelogs, in place (it stayed in the group: nothing else moved).
      expect(member.stats.restores).toBeGreaterThan(restoresBefore);
      await send(t, 60, 30);
      await eventually('records after the recovery processed', () => member.stats.records >= 90, { timeoutMs: 60_000 });
      expect(ended, 'the member kept running').toBe('running');
      expect(member.health().running).toBe(true);
      const got = await readTopic({ brokers: s.kafka.brokers, topic: t.output, partitions: 1, count: 90, timeoutMs: 60_000, settleMs: 1500 });
      expect(expectContiguous(got.map((m) => m.value!.toString()))).toBe(90);
    } finally {
      await member.stop();
    }
  }, 180_000);

  it('past its bound on in-place recoveries the member stops and says why', async () => {
    const t = await topics('bounded', 1);
    const member = counter(t, { maxProducerRecoveries: 1 });
    await send(t, 0, 6);
    await member.start();
    const outcome = member.done().then(
      () => 'ended without an error',
      (e: unknown) => (e as Error).message,
    );
    try {
      await eventually('the first records processed', () => member.stats.records >= 6, { timeoutMs: 60_000 });
      await fence(`${t.prefix}member`);
      await send(t, 6, 6);
      await eventually('one recovery in place', () => member.stats.producerRecoveries >= 1, { timeoutMs: 60_000 });
      await eventually('the records after the first fence processed', () => member.stats.records >= 12, { timeoutMs: 60_000 });
      await fence(`${t.prefix}member`);
      await send(t, 12, 6);
      expect(await outcome).toMatch(/fenced|epoch/i);
      expect(await outcome).toMatch(/1 in-place recoveries within 600 s already/);
      expect(member.stats.producerRecoveries).toBe(1);
    } finally {
      await member.stop();
    }
  }, 180_000);

  it('a transaction the coordinator aborted (open past transaction.timeout.ms while the member was paused) is written again once, the member running', async () => {
    const t = await topics('timedout', 1);
    const member = counter(t, { transactionTimeoutMs: 3000 });
    let ended: unknown = 'running';
    await send(t, 0, 6);
    await member.start();
    void member.done().then(
      () => (ended = 'ended'),
      (e: unknown) => (ended = e),
    );
    try {
      await eventually('the first records processed', () => member.stats.records >= 6, { timeoutMs: 60_000 });
      // The next batch's records go into its transaction, then the member pauses past the timeout and the
      // coordinator's check for timed-out transactions (every 10 s by default).
      pauseInTransaction.ms = 14_000;
      const started = Date.now();
      await send(t, 6, 6);
      await eventually('the records after the stall processed', () => member.stats.records >= 12, { timeoutMs: 60_000 });
      console.log(
        `coordinator timeout → processed after ${Date.now() - started} ms; recoveries ${member.stats.producerRecoveries}, ` +
          `aborts ${member.stats.aborts}; last error: ${member.stats.lastError}`,
      );
      // The coordinator bumped the epoch when it aborted: the member's producer is fenced, replaced in place.
      expect(member.stats.producerRecoveries).toBe(1);
      await send(t, 12, 6);
      await eventually('records after the recovery processed', () => member.stats.records >= 18, { timeoutMs: 60_000 });
      expect(ended, 'the member kept running').toBe('running');
      const got = await readTopic({ brokers: s.kafka.brokers, topic: t.output, partitions: 1, count: 18, timeoutMs: 60_000, settleMs: 1500 });
      expect(expectContiguous(got.map((m) => m.value!.toString()))).toBe(18);
    } finally {
      await member.stop();
    }
  }, 180_000);
});
