// A zombie event manager (issue 12): SIGSTOP one member past its session
// timeout, under traffic with short subscriptions and wall-clock timers, so
// the other member takes its partitions, restores them and fires their timers;
// then SIGCONT it. Whatever the woken member had consumed, buffered or had due
// must not reach read_committed readers: no (Call-ID, CSeq) of a NOTIFY
// request is ever committed twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeConsumerGroup } from '../../kafka/consumerGroupAdmin.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { subscriptionRecord } from '../support/subscriptionRecords.ts';
import type { Subscription } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { EVENT_MANAGER_GROUP } from '../../streams/event-manager/eventManager.ts';
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
const topic = (n: 'subscriptions' | 'signaling-events' | 'notify-requests') => topicName(s.topics.prefix, n);
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

const start = (id: string) =>
  startMemberProcess(s, id, ['event-manager', '--member-id', id, '--stats-interval', '5'], /running against/, {
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
  it('never commits a NOTIFY (Call-ID, CSeq) that its successor also committed', { timeout: 300_000 }, async () => {
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
  });
});
