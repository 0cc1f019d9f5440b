// A zombie event manager (issue 12): SIGSTOP one member past its session
// timeout, under traffic with short subscriptions and wall-clock timers, so
// the other member takes its partitions, restores them and fires their timers;
// then SIGCONT it. Whatever the woken member had consumed, buffered or had due
// must not reach read_committed readers: no (Call-ID, CSeq) of a NOTIFY
// request is ever committed twice, and a fresh restore of every key from the
// changelog equals what its live owner holds (a zombie's late changelog write
// would make the restore differ).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeConsumerGroup } from '../../kafka/consumerGroupAdmin.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { subscriptionRecord } from '../support/subscriptionRecords.ts';
import type { Subscription } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { EVENT_MANAGER_GROUP } from '../../streams/event-manager/eventManager.ts';
import { subscriberView, type SubscriberView } from '../../streams/event-manager/introspection/subscriberView.ts';
import { fromStateRecord } from '../../streams/event-manager/managedSubscriber.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { startMemberProcess, type MemberProcess } from '../support/memberProcess.ts';
import { mapEvent } from '../support/signalingEvents.ts';
import Kafka from 'node-rdkafka';
import { connectConsumer, consumeBatch, disconnect, type Message } from '../../kafka/rdkafkaPromises.ts';
import { eventually, sleep } from '../support/wait.ts';

const P = 4;
const s = isolatedSettings('zombie', P);
const groupId = `${s.topics.prefix}${EVENT_MANAGER_GROUP}`;
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const topic = (n: 'subscriptions' | 'signaling-events' | 'notify-requests' | 'event-manager-presence-store-changelog') => topicName(s.topics.prefix, n);
/** The broker's session timeout for the group (45 s on a broker with default bounds, 6 s with presence's). */
const PAUSE_MS = Number(process.env.ZOMBIE_PAUSE_MS ?? 52_000);
const SUBSCRIBERS = 12;
const members: MemberProcess[] = [];
let producer: RecordProducer;

const presentity = (i: number) => `msisdn:+35191200${String(i).padStart(4, '0')}`;

function subscription(i: number, cseq: number): Subscription {
  // Short: refreshed while traffic runs, expiring (a timer's NOTIFY) at the end.
  return subscriptionRecord(presentity(i), `zombie-dialog-${i}`, { requestId: `zombie-${i}-${cseq}`, expires: 15, cseq, frontEnd: 'fe-zombie' });
}

/** Every committed record of a topic: read_committed from the start until 3 s pass without one (bounded at 60 s). */
async function readAll(t: string): Promise<Message[]> {
  const c = new Kafka.KafkaConsumer(
    { 'metadata.broker.list': s.kafka.brokers, 'group.id': `${s.topics.prefix}reader`, 'enable.auto.commit': false, 'isolation.level': 'read_committed' },
    { 'auto.offset.reset': 'earliest' },
  );
  await connectConsumer(c);
  c.setDefaultConsumeTimeout(200);
  c.assign(Array.from({ length: P }, (_, partition) => ({ topic: t, partition, offset: 0 })));
  const out: Message[] = [];
  const deadline = Date.now() + 60_000;
  try {
    for (let quietSince = Date.now(); Date.now() - quietSince < 3_000 && Date.now() < deadline;) {
      const batch = await consumeBatch(c, 1000);
      if (batch.length > 0) quietSince = Date.now();
      out.push(...batch);
    }
  } finally {
    await disconnect(c);
  }
  return out;
}

/** What a restore must reproduce of a subscriber: its watcher dialogs (CSeqs, versions, expiry), publications and presence counters. */
function restorable(v: SubscriberView) {
  return { key: v.key, version: v.version, eventsSeen: v.eventsSeen, lastEventTime: v.lastEventTime, publications: v.publications, watchers: v.watchers };
}

/** Each key's newest committed changelog value, restored as a member would (tombstones remove the key). */
async function freshRestore(): Promise<Map<string, ReturnType<typeof restorable>>> {
  const out = new Map<string, ReturnType<typeof restorable>>();
  for (const m of await readAll(topic('event-manager-presence-store-changelog'))) {
    const key = m.key!.toString();
    if (m.value === null) out.delete(key);
    else out.set(key, restorable(subscriberView(key, m.partition, fromStateRecord(await serde.decode('event-manager-presence-store-changelog', m.value)))));
  }
  return out;
}

/** The owner's view of a key over its member API: the one member that answers 200 (the other says 421). */
async function ownerView(key: string): Promise<ReturnType<typeof restorable>> {
  const answers = await Promise.all(
    members.map(async (m) => {
      const api = /member API on (http:\/\/\S+)/.exec(m.lines.map((l) => l.text).join('\n'))![1]!;
      const r = await fetch(`${api}/subscribers/${encodeURIComponent(key)}`);
      return { id: m.id, status: r.status, body: (await r.json()) as SubscriberView };
    }),
  );
  const owners = answers.filter((a) => a.status === 200);
  if (owners.length !== 1) throw new Error(`${key}: ${owners.length} owners answered (${answers.map((a) => `${a.id} ${a.status}`).join(', ')})`);
  return restorable(owners[0]!.body);
}

const start = (id: string) =>
  startMemberProcess(s, id, ['event-manager', '--member-id', id, '--stats-interval', '5', '--api-port', '0'], /running against/, {
    PRESENCE_TIMER_CLOCK: 'wall',
    PRESENCE_DEFAULT_WATCHER_DECISION: 'allow',
  });

beforeAll(async () => {
  await applyIsolated(s);
  await serde.loadIds();
  producer = new RecordProducer(s.kafka.brokers, `${s.topics.prefix}zombie`, 15_000);
  await producer.connect();
});

afterAll(async () => {
  for (const m of members) {
    m.signal('SIGCONT');
    await m.stop('SIGKILL').catch(() => {});
  }
  await producer?.close();
  await cleanupIsolated(s);
});

describe('a member paused past its session timeout', () => {
  it(
    "never commits a NOTIFY (Call-ID, CSeq) that its successor also committed, and leaves a changelog that restores to the owner's state",
    { timeout: 300_000 },
    async () => {
      members.push(await start('em-z1'), await start('em-z2'));
      await eventually(
        'two members sharing the partitions',
        async () => {
          const g = await describeConsumerGroup(s.kafka.brokers, groupId);
          return g?.members.length === 2 && g.members.every((m) => m.memberEpoch === g.groupEpoch && m.assignment.size > 0);
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );

      // Traffic: a refresh per dialog and a signaling event per subscriber every 2 s, until told to stop.
      let running = true;
      let round = 0;
      const traffic = (async () => {
        while (running) {
          round++;
          await Promise.all(
            Array.from({ length: SUBSCRIBERS }, async (_, i) => {
              await producer.send(topic('subscriptions'), presentity(i), serde.encode('subscriptions', subscription(i, round)));
              const ev =
                round % 2 === 0
                  ? mapEvent(presentity(i), 'purgeMS', 'invoke', Date.now(), { vlrNumber: '351910999001' }, { eventId: `z-${i}-${round}` })
                  : mapEvent(
                      presentity(i),
                      'updateLocation',
                      'invoke',
                      Date.now(),
                      { vlrNumber: '351910999001', mscNumber: '351910999001' },
                      { eventId: `z-${i}-${round}` },
                    );
              await producer.send(topic('signaling-events'), presentity(i), serde.encode('signaling-events', ev));
            }),
          );
          await sleep(2_000);
        }
      })();

      await sleep(6_000);
      const zombie = members[0]!;
      zombie.signal('SIGSTOP');
      await sleep(PAUSE_MS);
      // Its partitions moved to the other member meanwhile.
      const g = await describeConsumerGroup(s.kafka.brokers, groupId);
      expect(g?.members.map((m) => m.instanceId)).toEqual(['em-z2']);
      zombie.signal('SIGCONT');
      const wokeAt = Date.now();
      await sleep(15_000);
      running = false;
      await traffic;
      // The dialogs expire (15 s, wall-clock timers): terminated NOTIFYs from whoever owns them now.
      await sleep(25_000);

      const got = await readAll(topic('notify-requests'));
      // Every committed NOTIFY request per (Call-ID, CSeq), with where and when it was written, for the failure message.
      const seen = new Map<string, string[]>();
      for (const m of got) {
        const n = await serde.decode('notify-requests', m.value!);
        const k = `${n.callId} CSeq ${n.cseq}`;
        seen.set(k, [
          ...(seen.get(k) ?? []),
          `[${m.partition}]@${m.offset} ${n.notifyId} v${n.version} ${n.subscriptionState} at ${new Date(n.createdAt).toISOString()}`,
        ]);
      }
      const zombieWoke = new Date(wokeAt).toISOString();
      expect(seen.size).toBeGreaterThan(SUBSCRIBERS);
      expect([...seen].filter(([, copies]) => copies.length > 1).map(([k, copies]) => `${k} (zombie woke ${zombieWoke}): ${copies.join(' | ')}`)).toEqual([]);

      // A fresh restore of every key equals its live owner's state.
      const restored = await freshRestore();
      const keys = Array.from({ length: SUBSCRIBERS }, (_, i) => presentity(i));
      expect([...restored.keys()].sort()).toEqual([...keys].sort());
      for (const key of keys) expect(restored.get(key), `${key}: fresh restore vs its owner`).toEqual(await ownerView(key));
    },
  );
});
