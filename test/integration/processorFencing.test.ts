// Exactly-once runtime defects (issue 12), each on the real broker with the
// failure injected at the exact point where it hurts:
// - a revocation delivered in the middle of a batch must not release the store
//   under process() (records became "malformed" dead letters);
// - a member that stalled past max.poll.interval.ms (a zombie) must not commit a
//   punctuation after its successor took over: every transaction carries offsets;
// - a commitTransaction or sendOffsets that times out is retried, not aborted (the commit may land);
// - more outputs than the producer queue holds commit instead of aborting forever.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { TransactionalProcessor, type OutputRecord, type TransactionalProcessorOptions } from '../../kafka/transactionalProcessor.ts';
import { countStore, processorTopics, stallableMember } from '../support/processorTopics.ts';
import { readTopic } from '../support/topicReader.ts';
import { eventually, sleep } from '../support/wait.ts';

/** Commit calls to time out on purpose: a real librdkafka timeout (1 ms), the commit goes on in the background. */
const commitTimeouts = { left: 0, injected: 0 };
/**
 * sendOffsets calls to time out: a 1 ms limit does not make librdkafka time out (the local
 * coordinator answers first), so the offsets are sent and then the call fails as a timed-out
 * one does (ERR__TIMED_OUT, retriable) — what librdkafka returns when the answer is late.
 */
const offsetTimeouts = { left: 0, injected: 0 };
vi.mock('../../kafka/rdkafkaPromises.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../kafka/rdkafkaPromises.ts')>();
  return {
    ...real,
    consumeBatch: async (c: Parameters<typeof real.consumeBatch>[0], max: number) => {
      const got = await real.consumeBatch(c, max);
      if (!revocations.armed || got.length === 0 || revocations.consumerIds.get(c) !== revocations.clientId) return got;
      for (const until = Date.now() + 30_000; revocations.held.length === 0 && revocations.armed && Date.now() < until;)
        got.push(...(await real.consumeBatch(c, max)));
      return got;
    },
    sendOffsetsToTransaction: async (...args: Parameters<typeof real.sendOffsetsToTransaction>) => {
      await real.sendOffsetsToTransaction(...args);
      if (offsetTimeouts.left > 0) {
        offsetTimeouts.left--;
        offsetTimeouts.injected++;
        // The fields of librdkafka's error that the runtime reads (node-rdkafka does not export its class).
        const { default: Kafka } = await import('node-rdkafka');
        const code = Kafka.CODES.ERRORS.ERR__TIMED_OUT;
        throw Object.assign(new Error('Local: Timed out'), { code, isRetriable: true, isFatal: false, isTxnRequiresAbort: false });
      }
    },
    commitTransaction: (p: Parameters<typeof real.commitTransaction>[0], timeoutMs: number) => {
      if (commitTimeouts.left > 0) {
        commitTimeouts.left--;
        commitTimeouts.injected++;
        return real.commitTransaction(p, 1);
      }
      return real.commitTransaction(p, timeoutMs);
    },
  };
});

/**
 * Real revocations from the broker, made to land in the middle of a batch. node-rdkafka
 * dispatches the rebalance callback to the JS thread after the consume that served it,
 * so it can run after that consume's records went to process(), at any await there.
 * While armed, the named member's consume goes on polling until a revocation is served
 * (its records before the revocation join the batch), the callback is held, and the
 * test's process() hands it over at an await. Held more than 3 s: delivered anyway.
 */
const revocations = {
  armed: false,
  clientId: '',
  held: [] as Array<{ partitions: number[]; deliver: () => void }>,
  midBatch: 0,
  consumerIds: new WeakMap<object, string>(),
};
vi.mock('node-rdkafka', async (importOriginal) => {
  const real = await importOriginal<{ default: typeof import('node-rdkafka') }>();
  const RealConsumer = real.default.KafkaConsumer;
  function KafkaConsumer(conf: Record<string, unknown>, topicConf: unknown) {
    const cb = conf.rebalance_cb;
    if (typeof cb !== 'function') return new RealConsumer(conf as never, topicConf as never);
    const consumer = new RealConsumer(
      {
        ...conf,
        rebalance_cb(this: unknown, err: { code: number }, assignment: Array<{ partition: number }>) {
          if (revocations.armed && err?.code === real.default.CODES.ERRORS.ERR__REVOKE_PARTITIONS && assignment.length > 0) {
            let done = false;
            const deliver = () => {
              if (!done) cb.call(this, err, assignment);
              done = true;
            };
            revocations.held.push({ partitions: assignment.map((a) => a.partition), deliver });
            setTimeout(deliver, 3000);
            return;
          }
          cb.call(this, err, assignment);
        },
      } as never,
      topicConf as never,
    );
    revocations.consumerIds.set(consumer, String(conf['client.id']));
    return consumer;
  }
  return { ...real, default: { ...real.default, KafkaConsumer } };
});

const s = loadSettings();
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

/** Input, output and changelog topics of one test, under a prefix of its own. */
const topics = (name: string, partitions: number) => processorTopics('fence', name, partitions, cleanups);

/** Per key, the counts seen downstream must be 1..n: nothing lost, nothing twice. */
function expectContiguous(values: string[]): Map<string, number> {
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

describe('exactly-once runtime: fencing, revocation, commit timeouts, queue bounds', () => {
  it('a revocation delivered during process() leaves the store in place: no dead letters, counts exactly once', async () => {
    const t = await topics('revoke', 4);

    let deadLetters = 0;
    const member = (id: 'a' | 'b') =>
      new TransactionalProcessor<number>({
        brokers: s.kafka.brokers,
        clientId: `it-fence-revoke-${id}`,
        groupId: `${t.prefix}group`,
        inputTopics: [t.input],
        transactionalId: `${t.prefix}${id}`,
        store: { changelogTopic: t.changelog, ...countStore },
        process: async (batch, ctx) => {
          if (id === 'a') {
            // A slow batch (as one waiting for the database), and the revocation arrives in the middle of it.
            await sleep(50);
            for (const h of revocations.held.splice(0)) {
              if (batch.some((r) => h.partitions.includes(r.partition))) revocations.midBatch++;
              h.deliver();
            }
            await sleep(50);
          }
          const out: OutputRecord[] = [];
          for (const r of batch) {
            try {
              const st = ctx.store(r.partition);
              const n = (st.get(r.key!) ?? 0) + 1;
              st.put(r.key!, n);
              out.push({ topic: t.output, key: r.key, value: Buffer.from(`${r.key}:${n}`) });
            } catch {
              // What the event manager does with a record it cannot apply.
              deadLetters++;
            }
          }
          return out;
        },
      });
    const a = member('a');
    let b = member('b');
    await Promise.all(Array.from({ length: 40 }, (_, i) => t.producer.send(t.input, `key-${i % 8}`, Buffer.from(String(i)))));
    await a.start();
    try {
      await eventually('member a to process the first records', () => a.stats.records >= 40, { timeoutMs: 60_000 });
      // A steady stream while b joins, so a's batches hold records of the partitions it loses.
      let sent = 40;
      const streaming = (async () => {
        for (const until = Date.now() + 60_000; Date.now() < until && revocations.midBatch === 0; sent += 8) {
          await Promise.all(Array.from({ length: 8 }, (_, k) => t.producer.send(t.input, `key-${(sent + k) % 8}`, Buffer.from(String(sent + k)))));
        }
      })();
      revocations.clientId = 'it-fence-revoke-a';
      // The revocation has to meet a batch holding its partitions' records, a race the test
      // cannot force: when it misses, b leaves (a takes everything back) and joins again.
      for (let attempt = 1; ; attempt++) {
        revocations.armed = true;
        await b.start();
        for (const until = Date.now() + 10_000; Date.now() < until && revocations.midBatch === 0;) await sleep(100);
        if (revocations.midBatch > 0 || attempt === 4) break;
        revocations.armed = false;
        await b.stop();
        // Rejoining before a holds b's partitions again would hand them back to b without revoking a's.
        await eventually('member a to take every partition back', () => a.assignments().length === 4, { timeoutMs: 30_000 });
        b = member('b');
      }
      await streaming;
      revocations.armed = false;
      expect(revocations.midBatch, 'no revocation reached member a in the middle of a batch').toBeGreaterThan(0);
      await eventually('member b to restore its share', () => b.stats.restores >= 1, { timeoutMs: 60_000 });
      expect(deadLetters).toBe(0);
      const got = await readTopic({ brokers: s.kafka.brokers, topic: t.output, partitions: 1, count: sent, timeoutMs: 60_000, settleMs: 1500 });
      expect(deadLetters).toBe(0);
      const last = expectContiguous(got.map((m) => m.value!.toString()));
      expect([...last.values()].reduce((x, y) => x + y, 0)).toBe(sent);
    } finally {
      await b.stop();
      await a.stop();
    }
  }, 150_000);

  // Before its first commit the group has no offset for the partition: the transaction is fenced by the seeded low watermark.
  it.each([
    { when: 'after its first commit of the partition', first: true },
    { when: 'before any commit of the partition', first: false },
  ])(
    'a member stalled past max.poll.interval.ms cannot commit a punctuation after its successor took over ($when)',
    async ({ first }) => {
      const t = await topics(first ? 'zombie' : 'zombie-fresh', 1);
      const stall = { armed: false, over: false };
      const zombieMarks = { punctuation: 0 };
      const opts = (id: string): TransactionalProcessorOptions<number> => ({
        ...stallableMember(t, id, 'fence-zombie'),
        punctuateIntervalMs: 300,
        process: async (batch, ctx) => {
          if (id === 'a' && stall.armed && batch.some((r) => r.value?.toString() === 'stall')) {
            stall.armed = false;
            await sleep(12_000); // past max.poll.interval.ms: the group moves on without us
            stall.over = true;
          }
          return batch.map((r) => {
            const st = ctx.store(r.partition);
            const n = (st.get(r.key!) ?? 0) + 1;
            st.put(r.key!, n);
            return { topic: t.output, key: r.key, value: Buffer.from(`${id}:${r.value!.toString()}:${n}`) };
          });
        },
        // The first timer after the stall: what a zombie would NOTIFY ("terminated", expired registrations).
        punctuate: () => {
          if (id !== 'a' || !stall.over || zombieMarks.punctuation > 0) return [];
          zombieMarks.punctuation++;
          return [{ topic: t.output, key: 'timer', value: Buffer.from('a:zombie-timer') }];
        },
      });
      const a = new TransactionalProcessor<number>(opts('a'));
      const b = new TransactionalProcessor<number>(opts('b'));
      await a.start();
      try {
        if (first) {
          await t.producer.send(t.input, 'k', Buffer.from('first'));
          await eventually('member a to process the first record', () => a.stats.records >= 1, { timeoutMs: 60_000 });
        } else await eventually('member a to be assigned the partition', () => a.ctx.partitions().length > 0 || undefined, { timeoutMs: 60_000 });
        stall.armed = true;
        await t.producer.send(t.input, 'k', Buffer.from('stall'));
        await eventually('member a to stall', () => !stall.armed, { timeoutMs: 30_000 });
        await b.start();
        await eventually('member b to process the stalled record', () => b.stats.records >= 1, { timeoutMs: 60_000 });
        await eventually('member a to come back from its stall and punctuate', () => zombieMarks.punctuation > 0, { timeoutMs: 30_000 });
        await sleep(3000);
        const got = (
          await readTopic({ brokers: s.kafka.brokers, topic: t.output, partitions: 1, count: first ? 2 : 1, timeoutMs: 30_000, settleMs: 2000 })
        ).map((m) => m.value!.toString());
        expect(got).not.toContain('a:zombie-timer');
        expect(got.filter((v) => v.endsWith(`:stall:${first ? 2 : 1}`))).toHaveLength(1);
      } finally {
        await b.stop();
        await a.stop();
      }
    },
    150_000,
  );

  it.each([
    ['commitTransaction', commitTimeouts],
    ['sendOffsets', offsetTimeouts],
  ])(
    'a %s that times out is retried, not aborted: its outputs and state land once',
    async (call, timeouts) => {
      const t = await topics(`${call.toLowerCase()}timeout`, 1);
      const p = new TransactionalProcessor<number>({
        brokers: s.kafka.brokers,
        clientId: `it-fence-${call.toLowerCase()}timeout`,
        groupId: `${t.prefix}group`,
        protocol: 'classic',
        inputTopics: [t.input],
        transactionalId: `${t.prefix}tx`,
        store: { changelogTopic: t.changelog, ...countStore },
        process: (batch, ctx) =>
          batch.map((r) => {
            const st = ctx.store(r.partition);
            const n = (st.get(r.key!) ?? 0) + 1;
            st.put(r.key!, n);
            return { topic: t.output, key: r.key, value: Buffer.from(`${r.key}:${n}`) };
          }),
      });
      await p.start();
      try {
        await t.producer.send(t.input, 'k', Buffer.from('warm-up'));
        await eventually('the warm-up record to be processed', () => p.stats.records >= 1, { timeoutMs: 60_000 });
        timeouts.left = 1;
        for (let i = 0; i < 5; i++) await t.producer.send(t.input, 'k', Buffer.from(String(i)));
        await eventually('the five records to be processed', () => p.stats.records >= 6, { timeoutMs: 30_000 });
        const got = await readTopic({ brokers: s.kafka.brokers, topic: t.output, partitions: 1, count: 6, timeoutMs: 30_000, settleMs: 2000 });
        expect(timeouts.injected).toBe(1);
        expectContiguous(got.map((m) => m.value!.toString()));
        expect(got).toHaveLength(6);
        expect(p.stats.aborts).toBe(0);
        expect(p.ctx.store(0).get('k')).toBe(6);
      } finally {
        timeouts.left = 0;
        await p.stop();
      }
    },
    120_000,
  );

  it('a batch whose outputs exceed the producer queue commits instead of aborting over and over', async () => {
    const t = await topics('queuefull', 1);
    const FANOUT = 100;
    const p = new TransactionalProcessor({
      brokers: s.kafka.brokers,
      clientId: 'it-fence-queuefull',
      groupId: `${t.prefix}group`,
      protocol: 'classic',
      inputTopics: [t.input],
      transactionalId: `${t.prefix}tx`,
      // A queue of 50 messages: one input's fan-out alone overflows it.
      producerConfig: { 'queue.buffering.max.messages': 50 },
      process: (batch) =>
        batch.flatMap((r) => Array.from({ length: FANOUT }, (_, i) => ({ topic: t.output, key: r.key, value: Buffer.from(`${r.value}:${i}`) }))),
    });
    for (let i = 0; i < 10; i++) await t.producer.send(t.input, `k${i}`, Buffer.from(String(i)));
    await p.start();
    try {
      const got = await readTopic({ brokers: s.kafka.brokers, topic: t.output, partitions: 1, count: 10 * FANOUT, timeoutMs: 45_000, settleMs: 1500 });
      expect(got).toHaveLength(10 * FANOUT);
      expect(new Set(got.map((m) => m.value!.toString())).size).toBe(10 * FANOUT);
    } finally {
      await p.stop();
    }
  }, 120_000);
});
