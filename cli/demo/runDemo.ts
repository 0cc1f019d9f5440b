// `presence demo`: the quick start's main job on the embedded default —
// bring the local stack up, apply the topology, provision demo subscribers,
// run our own synthetic MAP/ISUP/SIP traffic through the taps (decode,
// correlate, key by subscriber), the event managers and out as notify
// requests, and show what watchers would be told.
import { loadSettings, type Settings } from '../../config/settings.ts';
import { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { generatorSource } from '../../tools/generator/generatorSource.ts';
import { runTap } from '../../taps/pipeline/tapPipeline.ts';
import { subscriberIdentity } from '../../tools/generator/generate.ts';
import { provisionGenerated } from '../../tools/generator/directoryEntries.ts';
import { stackUp } from '../../infra/local/stack.ts';
import { applyTopology } from '../../kafka/applyTopology.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { topicName } from '../../schemas/topology.ts';
import { startEventManager } from '../../streams/event-manager/eventManager.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import type { Subscription } from '../../schemas/generated/records.ts';
import { readAll } from './readCommitted.ts';
import { totalLag } from '../../kafka/groupLag.ts';

/** How many demo subscribers the demo watcher subscribes to. */
const WATCHED = 5;

interface DemoOptions {
  subscribers: number;
  /** Simulated time span of the demo traffic, seconds. */
  durationSeconds: number;
  log: (line: string) => void;
  out: (line: string) => void;
  /** Pace of the traffic: N× the simulated time (default: as fast as possible). */
  speed?: number;
  /** Called once the topics exist, before any traffic (the demo's console starts here). */
  afterTopology?: () => Promise<void>;
}

export async function runDemo(o: DemoOptions, s: Settings = loadSettings()): Promise<{ events: number; notifies: number }> {
  const t0 = Date.now();
  o.log('[1/6] local stack');
  await stackUp(s, (l) => o.log(`      ${l}`));
  o.log('[2/6] topics and schemas');
  const { topics } = await applyTopology(s);
  o.log(`      ${topics.length} topics, ${topics.filter((t) => t.action === 'created').length} created`);
  await o.afterTopology?.();

  // A new seed per run, ending now: fresh traffic, newer than what earlier runs left in the state stores.
  const seed = Date.now() % 1_000_000;
  const startTime = Math.floor(Date.now() / 1000) - o.durationSeconds;
  const gen = { subscribers: o.subscribers, durationSeconds: o.durationSeconds, seed, startTime, mix: { powerCycleSeconds: 1800 } };
  const serde = new RecordSerde(s.registry.url, s.topics.prefix);
  await serde.loadIds();

  o.log('[3/6] event manager: one member of the consumer group, state restored from its changelog');
  const em = await startEventManager(s, { memberId: `demo-${seed}` });
  try {
    o.log(`[4/6] subscriber directory: provisioning ${o.subscribers} demo subscribers; a watcher subscribes to the first ${WATCHED}`);
    const directory = new SubscriberDirectory(s.database.url);
    const producer = new RecordProducer(s.kafka.brokers, 'presence-demo');
    let events: number;
    try {
      await directory.migrate();
      await provisionGenerated(directory, o.subscribers);
      await producer.connect();
      const watched = Array.from({ length: Math.min(WATCHED, o.subscribers) }, (_, i) => subscriberIdentity(i, {}));
      for (const [i, id] of watched.entries()) {
        const sub: Subscription = {
          contactVerified: true,
          dialogFilter: null,
          requestId: `demo-${seed}-${i}`,
          receivedAt: startTime * 1000,
          presentity: `msisdn:+${id.msisdn}`,
          presentityUri: id.aor,
          watcherUri: 'sip:demo-watcher@example.com',
          event: 'presence',
          expires: 7200,
          callId: `demo-${seed}-${i}`,
          watcherTag: `w${seed}`,
          cseq: 1,
          contact: 'sip:demo-watcher@127.0.0.1:5070',
          routeSet: [],
          accept: ['application/pidf+xml'],
          supported: [],
          body: null,
          frontEnd: 'demo',
          localTag: null,
        };
        await producer.send(topicName(s.topics.prefix, 'subscriptions'), sub.presentity, serde.encode('subscriptions', sub));
      }

      // Let the event manager hold the dialogs before traffic starts, so the watcher sees every change.
      const until = Date.now() + 60_000;
      while (em.stats.subscribes < watched.length && Date.now() < until) await new Promise((r) => setTimeout(r, 100));

      o.log(`[5/6] taps: ${o.durationSeconds / 60} simulated minutes of MAP/ISUP/SIP traffic → decode → correlate → signaling events`);
      const sum = await runTap(s, [generatorSource(gen)], { tap: 'generator', speed: o.speed ?? Infinity, unknown: 'drop', directory });
      events = sum.events;
      const top = Object.entries(sum.byMessage)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 6)
        .map(([m, n]) => `${m} ×${n}`)
        .join(', ');
      o.log(
        `      ${sum.frames} packets, ${sum.signals} messages (${top}, …) → ${sum.events} events; ${sum.notSubscriber} parties outside the directory dropped`,
      );
    } finally {
      await producer.close();
      await directory.close();
    }

    o.log('[6/6] waiting for the event manager to derive presence');
    // Caught up means committed, not seen: the group's offsets at the ends of its input topics.
    // (A processor counter would also count the records of an aborted batch, and the last
    // commit may already be behind us, so waiting for "one more" could wait forever.)
    const deadline = Date.now() + 120_000;
    let lag = await totalLag(s.kafka.brokers, em.processor.groupId, [...em.processor.inputTopics]);
    while (lag > 0 || em.stats.subscribes < Math.min(WATCHED, o.subscribers)) {
      if (Date.now() > deadline)
        throw new Error(
          `the event manager did not catch up in 120 s: ${lag} input records not committed, ${em.stats.signals} of ${events} events seen (processor: ${em.processor.stats.lastError ?? 'no error'})`,
        );
      await new Promise((r) => setTimeout(r, 250));
      lag = await totalLag(s.kafka.brokers, em.processor.groupId, [...em.processor.inputTopics]);
    }

    const presence = await readAll(s, serde, 'current-presence');
    const latest = new Map(presence.map((p) => [p.subscriber, p]));
    const notifies = (await readAll(s, serde, 'notify-requests')).filter((n) => n.callId.startsWith(`demo-${seed}-`));
    const perWatched = new Map<string, number>();
    for (const n of notifies) perWatched.set(n.presentity, (perWatched.get(n.presentity) ?? 0) + 1);

    o.out(
      `${'subscriber'.padEnd(22)} ${'network'.padEnd(9)} ${'call'.padEnd(8)} ${'basic'.padEnd(6)} ${'connectability'.padEnd(15)} ${'activities'.padEnd(14)} NOTIFYs to the watcher`,
    );
    for (let i = 0; i < Math.min(o.subscribers, 20); i++) {
      const key = `msisdn:+${subscriberIdentity(i, {}).msisdn}`;
      const p = latest.get(key);
      if (!p) continue;
      o.out(
        `${key.padEnd(22)} ${p.networkState.padEnd(9)} ${p.callState.padEnd(8)} ${p.basic.padEnd(6)} ${p.connectability.padEnd(15)} ${(p.activities ?? '-').padEnd(14)} ${perWatched.get(key) ?? '-'}`,
      );
    }
    if (o.subscribers > 20) o.out(`… and ${o.subscribers - 20} more subscribers on ${topicName(s.topics.prefix, 'current-presence')}`);
    o.log(
      `demo done in ${((Date.now() - t0) / 1000).toFixed(1)}s: ${em.stats.signals} events, ${em.stats.presenceChanges} presence changes (${em.stats.timersFired} timers fired), ${notifies.length} NOTIFY requests for the watcher on ${topicName(s.topics.prefix, 'notify-requests')}; ` +
        'the stack keeps running (presence stack down stops it)',
    );
    o.log('watch a run live: npx presence demo --console, then open the URL it prints; npx presence scale event-managers 3 moves partitions while you look');
    return { events, notifies: notifies.length };
  } finally {
    await em.stop();
  }
}
