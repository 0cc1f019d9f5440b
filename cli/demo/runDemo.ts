// `presence demo`: the quick start's main job on the embedded default —
// bring the local stack up, apply the topology, provision demo subscribers,
// run our own synthetic MAP/ISUP/SIP traffic through the taps (decode,
// correlate, key by subscriber), the event managers and out as notify
// requests, and show what watchers would be told.
import { loadSettings, type Settings } from '../../config/settings.ts';
import { SubscriberDirectory } from '../../connectors/taps/directory/subscriberDirectory.ts';
import { generatorSource } from '../../connectors/taps/generatorSource.ts';
import { replaySources } from '../../connectors/taps/replay/replayCaptures.ts';
import { subscriberIdentity } from '../../connectors/generator/generate.ts';
import { stackUp } from '../../infra/local/stack.ts';
import { applyTopology } from '../../schemas/applyTopology.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { topicName } from '../../schemas/topology.ts';
import { startEventManager } from '../../streams/event-manager/eventManager.ts';
import { readCommitted } from './readCommitted.ts';

export interface DemoOptions {
  subscribers: number;
  /** Simulated time span of the demo traffic, seconds. */
  durationSeconds: number;
  log: (line: string) => void;
  out: (line: string) => void;
}

export async function runDemo(o: DemoOptions, s: Settings = loadSettings()): Promise<{ events: number; notifies: number }> {
  const t0 = Date.now();
  o.log('[1/5] local stack');
  await stackUp(s, (l) => o.log(`      ${l}`));
  o.log('[2/5] topics and schemas');
  const { topics } = await applyTopology(s);
  o.log(`      ${topics.length} topics, ${topics.filter((t) => t.action === 'created').length} created`);

  // A new seed per run: fresh traffic, and its events are told apart from earlier runs'.
  const seed = Date.now() % 1_000_000;
  const gen = { subscribers: o.subscribers, durationSeconds: o.durationSeconds, seed, mix: { powerCycleSeconds: 1800 } };
  o.log(`[3/5] subscriber directory: provisioning ${o.subscribers} demo subscribers`);
  const directory = new SubscriberDirectory(s.database.url);
  let events: number;
  try {
    await directory.migrate();
    await directory.provision(
      Array.from({ length: o.subscribers }, (_, i) => {
        const id = subscriberIdentity(i, {});
        return { imsi: id.imsi, msisdn: `+${id.msisdn}`, aor: id.aor };
      }),
    );
    o.log(`[4/5] taps: ${o.durationSeconds / 60} simulated minutes of MAP/ISUP/SIP traffic → decode → correlate → signaling events`);
    const sum = await replaySources(s, [generatorSource(gen)], { tap: 'generator', speed: Infinity, unknown: 'drop', directory });
    events = sum.events;
    const top = Object.entries(sum.byMessage).sort((a, b) => b[1] - a[1]).slice(0, 6).map(([m, n]) => `${m} ×${n}`).join(', ');
    o.log(`      ${sum.frames} packets, ${sum.signals} messages (${top}, …) → ${sum.events} events; ${sum.notSubscriber} parties outside the directory dropped`);
  } finally {
    await directory.close();
  }

  o.log('[5/5] event manager (one member of the consumer group) → notify requests');
  const serde = new RecordSerde(s.registry.url, s.topics.prefix);
  await serde.loadIds();
  const em = await startEventManager(s, { memberId: `demo-${seed}` });
  try {
    const mine = `generator:generator-seed${seed}:`;
    const notifies = await readCommitted(s, serde, 'notify-requests', (n) => n.causeEventId?.startsWith(mine) === true, events, 180_000, (got) =>
      o.log(`      ${got}/${events} notify requests`),
    );
    const bySubscriber = new Map<string, { count: number; basic: string; last: string }>();
    for (const n of notifies) {
      const cur = bySubscriber.get(n.presentity) ?? { count: 0, basic: '-', last: '' };
      cur.count++;
      const basic = /<basic>(\w+)<\/basic>/.exec(n.body ?? '')?.[1];
      if (basic) cur.basic = basic;
      cur.last = /<note>([^<]*)<\/note>/.exec(n.body ?? '')?.[1] ?? '';
      bySubscriber.set(n.presentity, cur);
    }
    o.out(`${'subscriber'.padEnd(24)} ${'NOTIFYs'.padStart(7)}  basic   last signal`);
    for (const [who, v] of [...bySubscriber].sort().slice(0, 25)) o.out(`${who.padEnd(24)} ${String(v.count).padStart(7)}  ${v.basic.padEnd(7)} ${v.last}`);
    if (bySubscriber.size > 25) o.out(`… and ${bySubscriber.size - 25} more subscribers`);
    o.log(`demo done in ${((Date.now() - t0) / 1000).toFixed(1)}s: ${notifies.length} notify requests on ${topicName(s.topics.prefix, 'notify-requests')}; the stack keeps running (presence stack down stops it)`);
    return { events, notifies: notifies.length };
  } finally {
    await em.stop();
  }
}
