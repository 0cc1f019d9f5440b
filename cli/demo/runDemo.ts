// `presence demo`: the quick start's main job on the embedded default —
// bring the local stack up, apply the topology, feed bundled demo signaling
// through the pipeline, and show what watchers would be told.
import { loadSettings, type Settings } from '../../config/settings.ts';
import { stackUp } from '../../infra/local/stack.ts';
import { applyTopology } from '../../schemas/applyTopology.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { topicName } from '../../schemas/topology.ts';
import { startEventManager } from '../../streams/event-manager/eventManager.ts';
import { RecordProducer } from '../../streams/runtime/recordProducer.ts';
import { demoSignaling } from './demoSignaling.ts';
import { readCommitted } from './readCommitted.ts';

export interface DemoOptions {
  subscribers: number;
  log: (line: string) => void;
  out: (line: string) => void;
}

export async function runDemo(o: DemoOptions, s: Settings = loadSettings()): Promise<{ events: number; notifies: number }> {
  const t0 = Date.now();
  o.log('[1/4] local stack');
  await stackUp(s, (l) => o.log(`      ${l}`));
  o.log('[2/4] topics and schemas');
  const { topics } = await applyTopology(s);
  o.log(`      ${topics.length} topics, ${topics.filter((t) => t.action === 'created').length} created`);

  const serde = new RecordSerde(s.registry.url, s.topics.prefix);
  await serde.loadIds();
  const runId = Date.now().toString(36);
  const events = demoSignaling(o.subscribers, runId);
  o.log(`[3/4] publishing ${events.length} signaling events for ${o.subscribers} subscribers`);
  const producer = new RecordProducer(s.kafka.brokers, 'presence-demo');
  await producer.connect();
  const signaling = topicName(s.topics.prefix, 'signaling-events');
  await Promise.all(events.map((e) => producer.send(signaling, e.subscriber, serde.encode('signaling-events', e))));
  await producer.close();

  o.log('[4/4] event manager (one member of the group) → notify requests');
  const em = await startEventManager(s, { memberId: `demo-${runId}` });
  try {
    const wanted = new Set(events.map((e) => e.eventId));
    const notifies = await readCommitted(s, serde, 'notify-requests', (n) => n.causeEventId !== null && wanted.has(n.causeEventId), wanted.size, 120_000, (got) =>
      o.log(`      ${got}/${wanted.size} notify requests`),
    );
    const last = new Map<string, string>();
    for (const n of notifies) last.set(n.presentity, /<basic>(\w+)<\/basic>/.exec(n.body ?? '')?.[1] ?? '-');
    o.out(`subscriber                      basic   (last of ${notifies.length} NOTIFYs on ${topicName(s.topics.prefix, 'notify-requests')})`);
    for (const [who, basic] of [...last].sort()) o.out(`${who.padEnd(32)}${basic}`);
    o.log(`demo done in ${((Date.now() - t0) / 1000).toFixed(1)}s; the stack keeps running (presence stack down stops it)`);
    return { events: events.length, notifies: notifies.length };
  } finally {
    await em.stop();
  }
}
