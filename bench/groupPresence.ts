// Benchmark: group presence update latency — a member's current-presence
// record produced → the group watcher's NOTIFY committed, and → the new
// group-presence document committed — for groups of 10, 1,000 and 10,000
// members (one watcher per group, a member with no receiving policy).
//   npx tsx bench/groupPresence.ts
// Also the bytes each topic of the join receives per member change (issue 15.5).
// Needs `presence stack up`. BENCH_SIZES=10,1000,10000 BENCH_UPDATES=10 (per size; the
// 10,000 group gets half). Runs against its own topic prefix and consumer groups,
// removed at the end.
import Kafka from 'node-rdkafka';
import { loadSettings } from '../config/settings.ts';
import { applyTopology } from '../kafka/applyTopology.ts';
import type { Group, GroupMember, Presence, Subscription } from '../schemas/generated/records.ts';
import { RecordSerde } from '../schemas/serde.ts';
import { TOPICS, topicName, valueSubject } from '../schemas/topology.ts';
import { startGroupPresence } from '../streams/group-presence/groupPresenceService.ts';
import { pidfFor } from '../test/support/groupRecords.ts';
import { eventually, sleep } from '../test/support/wait.ts';
import { withAdmin } from '../kafka/kafkaAdmin.ts';
import { connectConsumer, disconnect, type Consumer } from '../kafka/rdkafkaPromises.ts';
import { RecordProducer } from '../kafka/recordProducer.ts';

const SIZES = (process.env.BENCH_SIZES ?? '10,1000,10000').split(',').map(Number);
const UPDATES = Number(process.env.BENCH_UPDATES ?? 10);
const base = loadSettings();
const prefix = `bench-gp-${Date.now().toString(36)}.`;
const s = { ...base, topics: { ...base.topics, prefix, partitions: 3 } };
const serde = new RecordSerde(s.registry.url, prefix);
const t = (n: Parameters<typeof topicName>[1]) => topicName(prefix, n as never);
const now = () => performance.now();

const subscriber = (g: number, i: number) => `msisdn:+3519${String(g).padStart(2, '0')}${String(i).padStart(6, '0')}`;
const uriOf = (g: number, i: number) => `sip:+3519${String(g).padStart(2, '0')}${String(i).padStart(6, '0')}@ims.example.net`;

function presence(sub: string, version: number, basic: 'open' | 'closed'): Presence {
  return {
    subscriber: sub,
    version,
    basic,
    networkState: basic === 'open' ? 'attached' : 'detached',
    callState: 'idle',
    connectability: 'unknown',
    servingNode: '351910999001',
    cellGlobalId: null,
    activities: null,
    note: null,
    pidf: pidfFor(sub.slice(7), basic, 'on-the-phone', `update ${version}`),
    dialogs: null,
    updatedAt: Date.now(),
  };
}

/** Committed records seen on a topic, by key: when each arrived (read_committed, from the end). */
async function watch(topic: string, partitions: number, onRecord: (key: string, value: Buffer | null, timestamp: number) => void): Promise<Consumer> {
  const c = new Kafka.KafkaConsumer(
    {
      'metadata.broker.list': s.kafka.brokers,
      'group.id': `bench-gp-reader-${process.pid}-${topic}`,
      'enable.auto.commit': false,
      'isolation.level': 'read_committed',
      // The reader itself must not add a fetch wait to what is measured.
      'fetch.wait.max.ms': 5,
    },
    { 'auto.offset.reset': 'latest' },
  );
  await connectConsumer(c);
  c.setDefaultConsumeTimeout(20);
  // Flowing mode sleeps this long after an empty poll (node-rdkafka default 500 ms): it would be measured as latency.
  c.setDefaultConsumeLoopTimeoutDelay(1);
  c.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: -1 })));
  c.on('data', (m) => onRecord(m.key ? m.key.toString() : '', m.value ?? null, m.timestamp ?? 0));
  c.consume();
  return c;
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

async function main() {
  await applyTopology(s);
  await serde.loadIds();
  const producer = new RecordProducer(s.kafka.brokers, 'bench-gp', 30_000);
  await producer.connect();
  const gp = await startGroupPresence(s, { memberId: 'bench-1', punctuateIntervalMs: Number(process.env.BENCH_PUNCTUATE_MS ?? 1000) });
  const notified = new Map<string, { at: number; wallAt: number; producedAt: number; version: number }>();
  const documents = new Map<string, { at: number; version: number; available: number }>();
  const readers = [
    await watch(t('group-presence'), 6, (key, v) => {
      if (!v) return;
      void serde.decode('group-presence', v).then((d) => documents.set(key, { at: now(), version: d.version, available: d.availableCount }));
    }),
    await watch(t('notify-requests'), s.topics.partitions, (key, v, ts) => {
      if (!v) return;
      const at = now();
      const wallAt = Date.now();
      void serde.decode('notify-requests', v).then((n) => notified.set(key, { at, wallAt, producedAt: ts, version: n.version }));
    }),
  ];
  // Bytes (key + value, as produced, before compression) each topic of the join receives: what one member's change costs.
  const written = new Map<string, number>();
  const BYTE_TOPICS = [
    'group-member-presence',
    'group-presence',
    'group-presence-store-changelog',
    'group-membership-store-changelog',
    'notify-requests',
  ] as const;
  for (const name of BYTE_TOPICS) {
    const partitions = TOPICS.find((x) => x.name === name)!.partitions;
    readers.push(
      await watch(t(name), partitions === 'subscriber' ? s.topics.partitions : partitions, (key, v) => {
        written.set(name, (written.get(name) ?? 0) + Buffer.byteLength(key) + (v?.length ?? 0));
      }),
    );
  }
  const bytesNow = () => new Map(BYTE_TOPICS.map((n) => [n, written.get(n) ?? 0]));
  await sleep(2000); // readers assigned at the end
  const results: string[] = [];
  try {
    for (const [gi, size] of SIZES.entries()) {
      const groupId = `bench-${size}`;
      const members: GroupMember[] = Array.from({ length: size }, (_, i) => ({
        subscriber: subscriber(gi, i),
        uri: uriOf(gi, i),
        role: null,
        displayName: null,
        attributes: {},
        share: true,
        sharedParts: [],
      }));
      const g: Group = {
        groupId,
        version: 1,
        uri: `sip:${groupId}@groups.example.net`,
        name: groupId,
        attributes: {},
        members,
        adminPolicy: 'members-only',
        updatedAt: Date.now(),
      };
      const load0 = now();
      for (let i = 0; i < size; i++)
        void producer.send(t('current-presence'), members[i]!.subscriber, serde.encode('current-presence', presence(members[i]!.subscriber, 1, 'open')));
      await producer.flush();
      await producer.send(t('groups'), groupId, serde.encode('groups', g));
      await eventually(`${groupId}: all ${size} members open`, () => (documents.get(groupId)?.available ?? 0) === size, { timeoutMs: 180_000, intervalMs: 2 });
      const loadMs = now() - load0;
      const sub: Subscription = {
        contactVerified: true,
        dialogFilter: null,
        requestId: `bench-${size}`,
        receivedAt: Date.now(),
        presentity: `group:${groupId}`,
        presentityUri: g.uri,
        watcherUri: members[0]!.uri,
        event: 'presence',
        expires: 3600,
        callId: `bench-${size}`,
        watcherTag: 'w',
        cseq: 1,
        contact: 'sip:watcher@127.0.0.1:5999',
        routeSet: [],
        accept: [],
        supported: ['eventlist'],
        body: null,
        frontEnd: 'bench',
        localTag: 'b',
      };
      const s0 = now();
      await producer.send(t('group-subscriptions'), groupId, serde.encode('group-subscriptions', sub));
      await eventually(`${groupId}: full-state NOTIFY`, () => notified.get(`group:${groupId}`)?.version === 1, { timeoutMs: 60_000, intervalMs: 2 });
      const fullMs = now() - s0;
      const toNotify: number[] = [];
      const toDocument: number[] = [];
      const produced: number[] = [];
      const perUpdate = new Map<string, number[]>(BYTE_TOPICS.map((x) => [x, []]));
      const n = size >= 10_000 ? Math.max(1, Math.floor(UPDATES / 2)) : UPDATES;
      for (let k = 0; k < n; k++) {
        const who = members[(k * 7919) % size]!.subscriber;
        const v0 = notified.get(`group:${groupId}`)!.version;
        const d0 = documents.get(groupId)?.version ?? 0;
        await sleep(500); // the previous update's records all read
        const b0 = bytesNow();
        const t0 = now();
        const t0wall = Date.now();
        await producer.send(t('current-presence'), who, serde.encode('current-presence', presence(who, 2 + k, k % 2 === 0 ? 'closed' : 'open')));
        await eventually(`${groupId}: update ${k}`, () => notified.get(`group:${groupId}`)!.version > v0 && (documents.get(groupId)?.version ?? 0) > d0, {
          timeoutMs: 60_000,
          intervalMs: 2,
        });
        toNotify.push(notified.get(`group:${groupId}`)!.at - t0);
        produced.push(notified.get(`group:${groupId}`)!.producedAt - t0wall);
        toDocument.push((documents.get(groupId)?.at ?? t0) - t0);
        await sleep(1000); // the transaction's other records (changelogs) reach the byte counters
        const b1 = bytesNow();
        for (const x of BYTE_TOPICS) perUpdate.get(x)!.push(b1.get(x)! - b0.get(x)!);
      }
      const kb = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} MB` : `${(x / 1e3).toFixed(1)} kB`);
      const bytesLine = BYTE_TOPICS.map((x) => `${x} ${kb(pct(perUpdate.get(x)!, 50))}`).join(', ');
      const total = pct(
        perUpdate.get(BYTE_TOPICS[0])!.map((_, i) => BYTE_TOPICS.reduce((a, x) => a + perUpdate.get(x)![i]!, 0)),
        50,
      );
      const line =
        `group of ${size.toLocaleString('en')} members: load ${(loadMs / 1000).toFixed(1)} s, full-state NOTIFY ${fullMs.toFixed(0)} ms; ` +
        `${n} updates: presence → NOTIFY median ${pct(toNotify, 50).toFixed(0)} ms, max ${Math.max(...toNotify).toFixed(0)} ms; ` +
        `presence → document median ${pct(toDocument, 50).toFixed(0)} ms, max ${Math.max(...toDocument).toFixed(0)} ms ` +
        `(the NOTIFY was produced, inside its transaction, ${pct(produced, 50).toFixed(0)} ms after the presence record: median); ` +
        `bytes written per member change (median): ${kb(total)} = ${bytesLine}`;
      console.log(line);
      results.push(line);
    }
  } finally {
    for (const r of readers) await disconnect(r);
    await gp.stop();
    await producer.close();
    await withAdmin(s.kafka.brokers, async (admin) => {
      const mine = (await admin.listTopics()).filter((x) => x.startsWith(prefix));
      if (mine.length) await admin.deleteTopics({ topics: mine, timeout: 30_000 });
    }).catch(() => {});
    for (const spec of TOPICS) {
      const subject = valueSubject(prefix, spec.name);
      await fetch(`${s.registry.url}/subjects/${encodeURIComponent(subject)}`, { method: 'DELETE' }).catch(() => {});
      await fetch(`${s.registry.url}/subjects/${encodeURIComponent(subject)}?permanent=true`, { method: 'DELETE' }).catch(() => {});
    }
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
