// Issue 12 defect 2, the paths besides punctuation (processorFencing.test.ts has that
// one): a member that stalled past max.poll.interval.ms while its successor took over
// must commit nothing from its afterRestore hook or from the handover its stop() runs.
// Each such transaction carries the owned partitions' committed offsets (seeded at
// assignment, the low watermark for a partition the group never committed), so the
// group coordinator refuses it; its records never reach read_committed readers. Each
// test fails when its path's transaction is sent without those offsets.
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { TransactionalProcessor, type TransactionalProcessorOptions } from '../../kafka/transactionalProcessor.ts';
import { processorTopics, stallableMember } from '../support/processorTopics.ts';
import { readTopic } from '../support/topicReader.ts';
import { eventually, sleep } from '../support/wait.ts';

const s = loadSettings();
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

/** Past the members' max.poll.interval.ms (6 s): the group hands the partition to the other member meanwhile. */
const STALL_MS = 12_000;

type Hooks = Pick<TransactionalProcessorOptions<number>, 'afterRestore' | 'onRevoking'> & { stallOn?: string };

function member(t: Awaited<ReturnType<typeof processorTopics>>, id: string, hooks: Hooks = {}) {
  const { stallOn, ...rest } = hooks;
  const p = new TransactionalProcessor<number>({
    ...stallableMember(t, id, 'zombie-hooks'),
    ...rest,
    process: async (batch, ctx) => {
      if (stallOn && batch.some((r) => r.value?.toString() === stallOn)) await sleep(STALL_MS);
      return batch.map((r) => {
        const st = ctx.store(r.partition);
        const n = (st.get(r.key!) ?? 0) + 1;
        st.put(r.key!, n);
        return { topic: t.output, key: r.key, value: Buffer.from(`${id}:${r.value!.toString()}:${n}`) };
      });
    },
  });
  cleanups.push(() => p.stop().catch(() => {}));
  return p;
}

const committedOutputs = async (t: Awaited<ReturnType<typeof processorTopics>>, count: number) =>
  (await readTopic({ brokers: s.kafka.brokers, topic: t.output, partitions: 1, count, timeoutMs: 30_000, settleMs: 3000 })).map((m) => m.value!.toString());

describe('a zombie member commits nothing from its hooks (issue 12, defect 2)', () => {
  it('afterRestore: the hook of a member that stalled in it past max.poll.interval.ms is refused', async () => {
    const t = await processorTopics('zombie-hooks', 'restore', 1, cleanups);
    const state = { aReturned: false };
    const a = member(t, 'a', {
      afterRestore: async () => {
        await sleep(STALL_MS);
        state.aReturned = true;
        return [{ topic: t.output, key: 'zombie', value: Buffer.from('a:after-restore') }];
      },
    });
    const b = member(t, 'b');
    await a.start();
    await eventually('member a in its afterRestore hook', () => a.stats.restores >= 1 || undefined, { timeoutMs: 30_000, intervalMs: 100 });
    await b.start();
    await t.producer.send(t.input, 'k', Buffer.from('to-b'));
    await eventually('member b processing the partition', () => b.stats.records >= 1 || undefined, { timeoutMs: 60_000, intervalMs: 200 });
    await eventually("member a's hook returning", () => state.aReturned || undefined, { timeoutMs: 30_000, intervalMs: 200 });
    await sleep(2000); // its transaction: refused, or (the defect) committed
    const got = await committedOutputs(t, 1);
    expect(got).toContain('b:to-b:1');
    expect(got).not.toContain('a:after-restore');
  }, 120_000);

  it('stop(): the handover of a member that lost its partition while stalled is refused, and its hook never runs', async () => {
    const t = await processorTopics('zombie-hooks', 'stop', 1, cleanups);
    const state = { handoverRan: false };
    const a = member(t, 'a', {
      stallOn: 'stall',
      onRevoking: () => {
        state.handoverRan = true;
        return [{ topic: t.output, key: 'zombie', value: Buffer.from('a:handover-on-stop') }];
      },
    });
    const b = member(t, 'b');
    await a.start();
    await t.producer.send(t.input, 'k', Buffer.from('first'));
    await eventually('member a to commit the first record', () => a.stats.transactions >= 1 || undefined, { timeoutMs: 60_000, intervalMs: 200 });
    await t.producer.send(t.input, 'k', Buffer.from('stall'));
    await sleep(1000);
    await b.start();
    await eventually('member b processing the stalled record', () => b.stats.records >= 1 || undefined, { timeoutMs: 60_000, intervalMs: 200 });
    // Stopped while still asleep in its batch: the loop ends after that batch, then stop() hands over what it thinks it holds.
    await a.stop();
    const got = await committedOutputs(t, 2);
    expect(got).toContain('a:first:1');
    expect(got).toContain('b:stall:2');
    expect(got).not.toContain('a:handover-on-stop');
    expect(state.handoverRan).toBe(false);
  }, 120_000);
});
