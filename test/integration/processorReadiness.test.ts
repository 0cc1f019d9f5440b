// /readyz of a transactional-processor member (kafka/processorReadiness.ts) against the
// shared broker: not ready until the group has given it its first assignment (CI saw an
// event deriver answer 200 while it held nothing because it had not joined yet), and
// ready once joined with an empty assignment (more members than partitions).
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { processorReadiness } from '../../kafka/processorReadiness.ts';
import { TransactionalProcessor } from '../../kafka/transactionalProcessor.ts';
import { processorTopics } from '../support/processorTopics.ts';
import { eventually } from '../support/wait.ts';

const s = loadSettings();
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

function member(t: Awaited<ReturnType<typeof processorTopics>>, n: number) {
  const p = new TransactionalProcessor<number>({
    brokers: s.kafka.brokers,
    clientId: `it-ready-${n}`,
    groupId: `${t.prefix}group`,
    inputTopics: [t.input],
    transactionalId: `${t.prefix}member-${n}`,
    // With a store, as every member role has: what it holds is its restored stores.
    store: { changelogTopic: t.changelog, encode: (v: number) => Buffer.from(String(v)), decode: (b: Buffer) => Number(b.toString()) },
    process: () => [],
  });
  cleanups.push(() => p.stop());
  return p;
}

describe("a processor member's readiness", () => {
  it('is 503 "joining" until the first assignment, then ready; a second member on a one-partition topic is ready with none', async () => {
    const t = await processorTopics('ready', 'join', 1, cleanups);
    const first = member(t, 1);
    await first.start();
    // Started, loop running, nothing held yet: it has not been told what it owns.
    const early = processorReadiness(first.health());
    expect(early.ok).toBe(false);
    expect(early.reason).toMatch(/^joining the group|^the processing loop/);
    await eventually(
      'the first member owns the partition and is ready',
      () => (processorReadiness(first.health()).ok && first.health().live.length === 1) || undefined,
      {
        timeoutMs: 30_000,
        intervalMs: 100,
      },
    );

    const second = member(t, 2);
    await second.start();
    await eventually(
      'the second member joined with an empty assignment and is ready',
      () => (second.health().joined && processorReadiness(second.health()).ok) || undefined,
      {
        timeoutMs: 30_000,
        intervalMs: 100,
      },
    );
    expect(second.health().live).toEqual([]);
    expect(first.health().live).toEqual([0]);
  }, 90_000);
});
