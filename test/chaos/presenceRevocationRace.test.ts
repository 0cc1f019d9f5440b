// Chaos: the revocation race on the event managers themselves (issue 12: "members join and
// leave every few seconds for minutes; 0 dead letters and current-presence equals a
// reference model"). revocationRace.test.ts shakes a bare TransactionalProcessor; this one
// runs the real event manager (stores, timers, current-presence) on generated signaling.
//
// The reference: the same generated traffic (fixed seed) through one undisturbed member.
// The chaos run: the traffic paced over PRESENCE_CHAOS_MS (default 60 s) while event
// managers join and leave every 2–5 s (1–3 running); every batch waits 50 ms before it is
// processed (the beforeBatch hook) and every revocation reaches the member 20 ms late (as
// on a busy event loop), so revocations land inside batches. Then:
//  - per subscriber, current-presence carries versions 1..n each once (a batch of a revoked
//    partition that leaked, or was processed twice, would repeat or skip a version);
//  - the final presence equals the reference's;
//  - no dead letters.
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { Settings } from '../../config/settings.ts';
import { applyTopology } from '../../kafka/applyTopology.ts';
import { totalLag } from '../../kafka/groupLag.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { runTap } from '../../taps/pipeline/tapPipeline.ts';
import type { GenerateOptions } from '../../tools/generator/generate.ts';
import { generatorSource } from '../../tools/generator/generatorSource.ts';
import { readAll } from '../../cli/demo/readCommitted.ts';
import { prng } from '../support/fuzz.ts';
import { cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';
import { versionsNotOnceEach, visiblePresence } from '../support/presenceChecks.ts';
import { race } from '../support/lateRevocations.ts';
import { eventually, sleep } from '../support/wait.ts';

vi.mock('node-rdkafka', async (importOriginal) => (await import('../support/lateRevocations.ts')).withLateRevocations(importOriginal));

const CHURN_MS = Number(process.env.PRESENCE_CHAOS_MS ?? 60_000);
const SEED = Number(process.env.PRESENCE_CHAOS_SEED ?? 12);
const P = 6;
const gen: GenerateOptions = {
  subscribers: 400,
  durationSeconds: 1200,
  seed: 20261207,
  startTime: Date.UTC(2026, 0, 1) / 1000,
  mix: { powerCycleSeconds: 1800 },
};
const reference = isolatedSettings('revoke-presence-ref', P);
const chaos = isolatedSettings('revoke-presence-chaos', P);

afterAll(async () => {
  await cleanupIsolated(reference);
  await cleanupIsolated(chaos);
});

/** Waits until the members' group has committed all of its input. */
async function caughtUp(s: Settings, m: EventManager): Promise<void> {
  await eventually(
    'the event managers committing all of their input',
    async () => ((await totalLag(s.kafka.brokers, m.processor.groupId, [...m.processor.inputTopics]).catch(() => -1)) === 0 ? true : undefined),
    { timeoutMs: 180_000, intervalMs: 500 },
  );
}

describe('chaos: revocation race on the event managers', () => {
  it(`members join and leave for ${CHURN_MS / 1000} s under 50 ms batches: current-presence versions once each, the reference's final presence, no dead letters`, async () => {
    const replay = (s: Settings, speed: number) => runTap(s, [generatorSource(gen)], { tap: 'generator', speed, unknown: 'keep' });

    await applyTopology(reference);
    const refSerde = new RecordSerde(reference.registry.url, reference.topics.prefix);
    await refSerde.loadIds();
    const refMember = await startEventManager(reference, { memberId: 'ref' });
    let refEvents: number;
    try {
      refEvents = (await replay(reference, Infinity)).events;
      await caughtUp(reference, refMember);
    } finally {
      await refMember.stop();
    }
    const refFinal = new Map((await readAll(reference, refSerde, 'current-presence')).map((p) => [p.subscriber, visiblePresence(p)]));
    expect(refEvents).toBeGreaterThan(2000);

    await applyTopology(chaos);
    const serde = new RecordSerde(chaos.registry.url, chaos.topics.prefix);
    await serde.loadIds();
    const rnd = prng(SEED);
    const running = new Map<string, EventManager>();
    let next = 0;
    const join = async () => {
      const id = `m${next++}`;
      const clientId = `event-manager-${id}`;
      const em = await startEventManager(chaos, {
        memberId: id,
        beforeBatch: async (batch) => {
          race.inProcess.set(clientId, new Set(batch.map((r) => r.partition)));
          await sleep(50); // the test hook: a slow batch, rebalance callbacks land inside it
          race.inProcess.delete(clientId);
        },
      });
      running.set(id, em);
    };
    const leave = async () => {
      const ids = [...running.keys()];
      const id = ids[Math.floor(rnd() * ids.length)]!;
      const em = running.get(id)!;
      running.delete(id);
      await em.stop();
    };

    let joins = 0;
    let leaves = 0;
    try {
      await join();
      joins++;
      // Paced so the replay lasts about the churn.
      const replayed = replay(chaos, (gen.durationSeconds * 1000) / CHURN_MS);
      let replaying = true;
      void replayed.finally(() => (replaying = false)).catch(() => {});
      while (replaying) {
        await sleep(2000 + Math.floor(rnd() * 3000));
        if (running.size <= 1 || (running.size < 3 && rnd() < 0.5)) {
          await join();
          joins++;
        } else {
          await leave();
          leaves++;
        }
      }
      const summary = await replayed;
      expect(summary.events).toBe(refEvents);
      await caughtUp(chaos, [...running.values()][0]!);

      const presence = await readAll(chaos, serde, 'current-presence');
      expect(versionsNotOnceEach(presence)).toEqual([]);
      const final = new Map(presence.map((p) => [p.subscriber, visiblePresence(p)]));
      expect(final.size).toBe(refFinal.size);
      for (const [key, p] of refFinal) expect({ key, ...final.get(key) }).toEqual({ key, ...p });
      expect(await readAll(chaos, serde, 'dead-letters')).toEqual([]);
      console.log(
        `presence revocation race: ${summary.events} events, ${presence.length} presence changes for ${final.size} subscribers; ` +
          `${joins} joins, ${leaves} leaves, ${race.revocations} revocations (${race.midBatch} in the middle of a batch with their records)`,
      );
    } finally {
      for (const em of running.values()) await em.stop().catch(() => {});
    }
  }, 900_000);
});
