// The broker-side "load" assignor with real event managers (Tekelec claims 3,
// 13, 20): the members report what they measure, the coordinator places
// partitions by that load — not by count — keeps the co-partitioned input
// topics together, and a member joining moves few partitions. Runs on the
// stack broker when it has the assignor, otherwise on a private broker
// (infra/assignor/assignorBroker.ts).
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings, type Settings } from '../../config/settings.ts';
import { assignorLog, brokerWithLoadAssignor, type AssignorBroker } from '../../infra/assignor/assignorBroker.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { mapEvent } from '../support/signalingEvents.ts';
import { brokerAssignors } from '../../kafka/assignors/brokerAssignors.ts';
import { partitionOf } from '../../kafka/partitioner.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { sleep } from '../support/wait.ts';

const PARTITIONS = 6;
/** Events per 100 ms tick by partition: partition 0 carries as much as all the others. */
const WEIGHT = [8, 4, 1, 1, 1, 1];
const tag = Date.now().toString(36);
const rulesSchema = `it_load_assignor_${process.pid}`;
let broker: AssignorBroker;
let s: Settings;
let serde: RecordSerde;
let producer: RecordProducer;
const ems: Array<{ id: string; em: EventManager }> = [];
let traffic: NodeJS.Timeout | undefined;

/** Two subscriber keys per partition. */
function keysByPartition(): string[][] {
  const out: string[][] = Array.from({ length: PARTITIONS }, () => []);
  for (let i = 0; out.some((k) => k.length < 2); i++) {
    const key = `msisdn:+3519100${String(i).padStart(5, '0')}`;
    const p = partitionOf(key, PARTITIONS);
    if (out[p]!.length < 2) out[p]!.push(key);
  }
  return out;
}

function startTraffic(): void {
  const keys = keysByPartition();
  let n = 0;
  traffic = setInterval(() => {
    for (let p = 0; p < PARTITIONS; p++) {
      for (let i = 0; i < WEIGHT[p]!; i++) {
        const key = keys[p]![n++ % 2]!;
        const e = mapEvent(
          key,
          'updateLocation',
          'invoke',
          Date.now(),
          { vlrNumber: '351910999001', mscNumber: '351910999001', opc: 100, dpc: 200 },
          { eventId: `e${n}` },
        );
        producer.send(topicName(s.topics.prefix, 'signaling-events'), key, serde.encode('signaling-events', e)).catch(() => {});
      }
    }
  }, 100);
}

/** What was appended to a log file since `offset`: a long-lived local broker's log grows past what one string can hold. */
function logSince(file: string, offset: number): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(Math.max(0, statSync(file).size - offset));
    readSync(fd, buf, 0, buf.length, offset);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

async function join(name: string): Promise<void> {
  const id = `lb-${name}-${tag}`;
  const em = await startEventManager(s, { memberId: id, rulesSchema, assignor: 'load', membership: { reportIntervalMs: 1000 } });
  ems.push({ id, em });
}

/** Partition → member id; checks that each member holds the same partition numbers of every input topic. */
function owners(): Map<number, string> {
  const out = new Map<number, string>();
  for (const { id, em } of ems) {
    const byTopic = new Map<string, number[]>();
    for (const a of em.processor.assignments()) byTopic.set(a.topic, [...(byTopic.get(a.topic) ?? []), a.partition].sort());
    const sets = [...byTopic.values()].map((ps) => ps.join(','));
    expect(new Set(sets).size, `${id} holds different partitions of its input topics: ${JSON.stringify([...byTopic])}`).toBeLessThanOrEqual(1);
    for (const p of byTopic.values().next().value ?? []) {
      expect(out.has(p), `partition ${p} owned twice`).toBe(false);
      out.set(p, id);
    }
  }
  return out;
}

/** Waits until every partition has one owner, every member owns some, and nothing changed for `quietMs`. */
async function stableOwners(quietMs = 3000, timeoutMs = 60_000): Promise<Map<number, string>> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  let since = Date.now();
  while (Date.now() < deadline) {
    const o = owners();
    const sig = JSON.stringify([...o].sort((a, b) => a[0] - b[0]));
    if (sig !== last) {
      last = sig;
      since = Date.now();
    } else if (o.size === PARTITIONS && ems.every(({ id }) => countOf(o, id) > 0) && Date.now() - since >= quietMs) return o;
    await sleep(250);
  }
  throw new Error(`assignment did not settle: ${last}`);
}

const loadOf = (o: Map<number, string>, id: string) => [...o].filter(([, m]) => m === id).reduce((sum, [p]) => sum + WEIGHT[p]!, 0);
const countOf = (o: Map<number, string>, id: string) => [...o].filter(([, m]) => m === id).length;
const moved = (a: Map<number, string>, b: Map<number, string>) => [...b].filter(([p, m]) => a.get(p) !== m).length;

beforeAll(async () => {
  broker = await brokerWithLoadAssignor(loadSettings());
  const iso = isolatedSettings('load-assignor', PARTITIONS);
  s = { ...iso, kafka: broker.settings.kafka, database: { ...iso.database, url: testDatabaseUrl } };
  await applyIsolated(s);
  serde = new RecordSerde(s.registry.url, s.topics.prefix);
  await serde.loadIds();
  producer = new RecordProducer(s.kafka.brokers, 'it-load-assignor', 15_000);
  await producer.connect();
});

afterAll(async () => {
  clearInterval(traffic);
  for (const { em } of ems.reverse()) await em.stop().catch(() => {});
  await producer?.close();
  if (s) await cleanupIsolated(s);
  await dropSchema(rulesSchema);
  await broker?.stop();
});

describe('load-aware assignor (broker-side, KIP-848)', () => {
  it('places partitions by reported load, co-partitioned, and moves few when a member joins', { timeout: 240_000 }, async () => {
    const logFrom = statSync(assignorLog(broker)).size;
    // The preflight every "load" member runs (a broker without it fails the member with that reason).
    expect([...(await brokerAssignors(s.kafka.brokers)).values()].every((v) => v.includes('presence.assignor.LoadAwareAssignor'))).toBe(true);
    await join('a');
    const one = await stableOwners();
    expect(countOf(one, ems[0]!.id)).toBe(PARTITIONS);

    // Skewed traffic for a few report intervals, so the reports carry the measured load.
    startTraffic();
    await sleep(5000);
    await join('b');
    const two = await stableOwners();
    const [a, b] = [ems[0]!.id, ems[1]!.id];
    const loads = [loadOf(two, a), loadOf(two, b)];
    // Total 16: by load the split is 8 | 8 (partition 0 alone); by count (range: 0-2 | 3-5) it would be 13 | 3.
    expect(Math.max(...loads) / 8, `loads ${loads} owners ${JSON.stringify([...two])}`).toBeLessThanOrEqual(9 / 8);
    expect(countOf(two, a)).not.toBe(countOf(two, b));
    // Joining moved only what the newcomer took.
    expect(moved(one, two)).toBe(countOf(two, b));

    await sleep(4000);
    await join('c');
    const three = await stableOwners();
    const c = ems[2]!.id;
    expect(countOf(three, c)).toBeGreaterThan(0);
    // Partition 0 alone (8 of 16) sets the peak; the rest is split without touching it, in at most 2 moves
    // (range, going from 2 to 3 members, moves 3 of 6).
    expect(Math.max(loadOf(three, a), loadOf(three, b), loadOf(three, c))).toBeLessThanOrEqual(8);
    expect(moved(two, three)).toBeLessThanOrEqual(2);

    // The coordinator matched members to their reports through client.rack (member id) and logged its placement.
    const log = logSince(assignorLog(broker), logFrom)
      .split('\n')
      .filter((l) => l.includes('load assignor:') && l.includes(s.topics.prefix));
    expect(
      log.some((l) => l.includes(`${a}=`) && l.includes(`${c}=`) && /[23] members matched/.test(l)),
      log.slice(-3).join('\n'),
    ).toBe(true);
  });
});
