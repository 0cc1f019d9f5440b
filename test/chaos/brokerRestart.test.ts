// Chaos: the broker dies (SIGKILL) in the middle of a replay and comes back on
// the same log 5 s later (issue 12, "Broker restart"). An outage is not bad
// input: the tap's transactions (an idempotent producer alone wrote records twice
// here, test/integration/tapPublisherEpochBump.test.ts) and the event manager's
// must ride it out, so nothing is lost and nothing is there twice.
//
// The same generated traffic (fixed seed) runs first on the shared broker,
// undisturbed, as the reference. Then on a private broker that is killed and
// restarted while the replay is being published and processed:
//  - signaling-events holds exactly the events the tap published, once each;
//  - current-presence has, per subscriber, versions 1..n each once (an aborted
//    or fenced batch that leaked would repeat a version), and the final
//    presence equals the reference's;
//  - no dead letters.
// The member runs under a supervisor (as a StatefulSet would run it): a member that
// stops rather than risk a duplicate (its producer fenced after the coordinator timed
// its transaction out during a long outage) is started again with its member id.
// Bounded: the replay is paced (about 10 s); the catch-up wait is 180 s.
import { afterAll, describe, expect, it } from 'vitest';
import type { Settings } from '../../config/settings.ts';
import { applyTopology } from '../../kafka/applyTopology.ts';
import { totalLag } from '../../kafka/groupLag.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { runTap, type TapSummary } from '../../taps/pipeline/tapPipeline.ts';
import { subscriberIdentity, type GenerateOptions } from '../../tools/generator/generate.ts';
import { generatorSource } from '../../tools/generator/generatorSource.ts';
import { readAll } from '../../cli/demo/readCommitted.ts';
import { cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';
import { versionsNotOnceEach, visiblePresence } from '../support/presenceChecks.ts';
import { privateBroker } from '../support/privateBroker.ts';
import { supervisedEventManager } from '../support/supervisedEventManager.ts';
import { eventually, sleep } from '../support/wait.ts';

const SUBSCRIBERS = 150;
const gen: GenerateOptions = {
  subscribers: SUBSCRIBERS,
  durationSeconds: 600,
  seed: 20261206,
  startTime: Date.UTC(2026, 0, 1) / 1000,
  mix: { powerCycleSeconds: 1800 },
};
/** 600 simulated seconds at 60×: a replay of about 10 s, long enough to kill the broker in its middle. */
const SPEED = 60;
const KILL_AFTER_MS = 3_000;
const DOWN_MS = 5_000;

const reference = isolatedSettings('restart-ref', 4);
// PRESENCE_CHAOS_BROKER_PORT: another port (and port + 1) when several runs share a machine.
const broker = privateBroker('broker-restart', Number(process.env.PRESENCE_CHAOS_BROKER_PORT ?? 19_292));
const chaos: Settings = { ...broker.settings, topics: { ...reference.topics, prefix: reference.topics.prefix.replace('restart-ref', 'restart-chaos') } };
const directory = new SubscriberDirectory(reference.database.url);

afterAll(async () => {
  await cleanupIsolated(reference);
  await broker.remove();
  await directory.close();
});

/** Runs a supervised event manager and the tap on `s`; `during` runs beside the replay. Returns the tap's summary and the member's restarts once everything is committed. */
async function replayThroughEventManager(
  s: Settings,
  speed: number,
  during: () => Promise<void> = async () => {},
): Promise<{ summary: TapSummary; restarts: string[] }> {
  const em = supervisedEventManager(s);
  try {
    await eventually('the event manager started', () => em.current(), { timeoutMs: 60_000 });
    const [summary] = await Promise.all([runTap(s, [generatorSource(gen)], { tap: 'generator', speed, unknown: 'drop', directory }), during()]);
    await eventually(
      () =>
        `the event manager committing its input on ${s.kafka.brokers} (restarts: ${em.restarts.join('; ') || 'none'}; processor: ${em.current()?.processor.stats.lastError ?? 'no error'}); its log:\n${em.lines.slice(-40).join('\n')}`,
      async () => {
        const m = em.current();
        if (!m) return undefined;
        return (await totalLag(s.kafka.brokers, m.processor.groupId, [...m.processor.inputTopics]).catch(() => -1)) === 0 ? true : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 500 },
    );
    return { summary, restarts: em.restarts };
  } finally {
    await em.stop();
  }
}

describe('broker restart during a replay', () => {
  it('loses nothing and repeats nothing: every event once, presence versions once each, the final presence of an undisturbed run', async () => {
    await directory.migrate();
    await directory.provision(
      Array.from({ length: SUBSCRIBERS }, (_, i) => {
        const id = subscriberIdentity(i, {});
        return { imsi: id.imsi, msisdn: `+${id.msisdn}`, aor: id.aor };
      }),
    );
    await applyTopology(reference);
    const refSerde = new RecordSerde(reference.registry.url, reference.topics.prefix);
    await refSerde.loadIds();
    const { summary: refSummary } = await replayThroughEventManager(reference, Infinity);
    const refFinal = new Map((await readAll(reference, refSerde, 'current-presence')).map((p) => [p.subscriber, visiblePresence(p)]));
    expect(refSummary.events).toBeGreaterThan(500);

    await broker.start();
    await applyTopology(chaos);
    const serde = new RecordSerde(chaos.registry.url, chaos.topics.prefix);
    await serde.loadIds();
    let restartedAt = 0;
    const { summary, restarts } = await replayThroughEventManager(chaos, SPEED, async () => {
      await sleep(KILL_AFTER_MS);
      broker.kill();
      const killedAt = Date.now();
      await sleep(DOWN_MS);
      await broker.start();
      restartedAt = Date.now();
      console.log(`broker killed, restarted ${DOWN_MS} ms later, answering again ${restartedAt - killedAt} ms after the kill`);
    });
    expect(restartedAt).toBeGreaterThan(0);

    const events = await readAll(chaos, serde, 'signaling-events');
    expect(summary.events).toBe(refSummary.events);
    expect(events).toHaveLength(summary.events);

    const presence = await readAll(chaos, serde, 'current-presence');
    expect(versionsNotOnceEach(presence)).toEqual([]);
    const final = new Map(presence.map((p) => [p.subscriber, visiblePresence(p)]));
    expect(final.size).toBe(refFinal.size);
    for (const [key, p] of refFinal) expect({ key, ...final.get(key) }).toEqual({ key, ...p });

    expect(await readAll(chaos, serde, 'dead-letters')).toEqual([]);
    console.log(
      `broker restart: ${summary.events} events, ${presence.length} presence changes for ${final.size} subscribers; ` +
        `member restarts by the supervisor: ${restarts.length}${restarts.length ? ` (${restarts.join('; ')})` : ''}`,
    );
  }, 600_000);
});
