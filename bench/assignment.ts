// Benchmark: placing event-manager partitions by load (Tekelec claims 3, 13,
// 20) against Kafka's built-in KIP-848 assignors. Two parts, reported apart:
//
//   npx tsx bench/assignment.ts simulate     deterministic: Kafka's own RangeAssignor and
//       UniformAssignor classes and our LoadAwareAssignor, called as the coordinator calls them,
//       on the same Zipf per-partition loads, through scale-out/in 2→3→4→3→2 (no broker needed).
//       BENCH_PARTITIONS=12 BENCH_ZIPF=1.0 BENCH_STEPS=2,3,4,3,2 BENCH_THRESHOLD=0.1
//   npx tsx bench/assignment.ts real --assignor load|range    measured: real event managers
//       (in-process members, one consumer group) on a broker offering "load" (the stack's, or a
//       private one, infra/assignor/assignorBroker.ts), Zipf signaling traffic, scale 1→2→3→2;
//       per step the rebalance time (membership change → every partition owned, stable 2 s),
//       partitions moved, and each member's load (events/s of the partitions it owns, from
//       the traffic sent). ~40 s per assignor. uniform is not run for real: it splits the
//       co-partitioned input topics, which the event manager's state cannot survive.
//       BENCH_PARTITIONS=6 BENCH_RATE=200 (events/s)
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { loadSettings, type Settings } from '../config/settings.ts';
import { brokerWithLoadAssignor } from '../infra/assignor/assignorBroker.ts';
import { assignorBuildDir, mavenAssignor } from '../infra/assignor/loadAssignorJar.ts';
import { applyTopology } from '../kafka/applyTopology.ts';
import { RecordSerde } from '../schemas/serde.ts';
import { topicName } from '../schemas/topology.ts';
import { startEventManager, type EventManager } from '../streams/event-manager/eventManager.ts';
import { mapEvent } from '../test/support/signalingEvents.ts';
import { sleep } from '../test/support/wait.ts';
import { parseGroupAssignor } from '../kafka/assignors/groupAssignor.ts';
import { withAdmin } from '../kafka/kafkaAdmin.ts';
import { partitionOf } from '../kafka/partitioner.ts';
import { RecordProducer } from '../kafka/recordProducer.ts';

/** Zipf weights over partitions (partition 0 hottest), scaled to `total`. */
function zipfLoads(partitions: number, exponent: number, total: number): number[] {
  const w = Array.from({ length: partitions }, (_, i) => 1 / (i + 1) ** exponent);
  const sum = w.reduce((a, b) => a + b, 0);
  return w.map((x) => Math.round((x / sum) * total * 10) / 10);
}

interface SimStep {
  assignor: string;
  step: number;
  members: number;
  maxOverMean: number;
  movedTopicPartitions: number;
  movedSignaling: number;
  splitPartitions: number;
  assignMicros: number;
  load: Record<string, number>;
  signalingPartitions: Record<string, string>;
}

async function simulate(): Promise<void> {
  const s = loadSettings();
  const partitions = Number(process.env.BENCH_PARTITIONS ?? 12);
  const zipf = Number(process.env.BENCH_ZIPF ?? 1.0);
  const steps = process.env.BENCH_STEPS ?? '2,3,4,3,2';
  const threshold = process.env.BENCH_THRESHOLD ?? '0.1';
  await mavenAssignor(s.home, 'package', { skipTests: true });
  const loads = zipfLoads(partitions, zipf, 1000);
  const cp = [path.join(assignorBuildDir(s.home), 'classes'), path.join(s.home, 'lib', `kafka-${s.kafka.version}`, '*')].join(path.delimiter);
  const out = execFileSync('java', ['-cp', cp, '-Dlog4j2.level=WARN', 'presence.assignor.AssignorSimulation', loads.join(','), steps, threshold], {
    encoding: 'utf8',
  });
  const rows = out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as SimStep);
  console.log(
    `simulation: ${partitions} partitions × 3 co-partitioned topics, Zipf(${zipf}) load ${loads.join(' ')} (total 1000 events/s), members ${steps}, threshold ${threshold}`,
  );
  console.log('assignor  members  max/mean  moved (topic-partitions / signaling)  split partitions  assign µs  load per member');
  for (const r of rows) {
    const per = Object.values(r.load)
      .map((x) => x.toFixed(0))
      .join(' ');
    console.log(
      `${r.assignor.padEnd(9)} ${String(r.members).padStart(7)}  ${r.maxOverMean.toFixed(2).padStart(8)}  ${`${r.movedTopicPartitions} / ${r.movedSignaling}`.padStart(36)}  ${String(r.splitPartitions).padStart(16)}  ${String(r.assignMicros).padStart(9)}  ${per}`,
    );
  }
  for (const a of ['range', 'uniform', 'load']) {
    const mine = rows.filter((r) => r.assignor === a);
    const worst = Math.max(...mine.map((r) => r.maxOverMean));
    const moves = mine.reduce((n, r) => n + r.movedTopicPartitions, 0);
    const split = Math.max(...mine.map((r) => r.splitPartitions));
    console.log(`summary ${a.padEnd(8)} worst max/mean ${worst.toFixed(2)}, total moved ${moves} topic-partitions, split partitions ${split}`);
  }
}

async function real(assignorArg: string): Promise<void> {
  const assignor = parseGroupAssignor(assignorArg, '--assignor');
  if (assignor === 'uniform') throw new Error('uniform splits the co-partitioned input topics (see `simulate`); the real run compares range and load');
  const partitions = Number(process.env.BENCH_PARTITIONS ?? 6);
  const rate = Number(process.env.BENCH_RATE ?? 200);
  const base = loadSettings();
  const broker = await brokerWithLoadAssignor(base, (l) => console.log(l));
  console.log(`broker: ${broker.description}`);
  const prefix = `bench-assign-${Date.now().toString(36)}.`;
  const s: Settings = {
    ...base,
    kafka: broker.settings.kafka,
    topics: { ...base.topics, prefix, partitions },
    database: { ...base.database, url: process.env.PRESENCE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
  };
  const rulesSchema = `bench_assign_${process.pid}`;
  await applyTopology(s);
  const serde = new RecordSerde(s.registry.url, prefix);
  await serde.loadIds();
  const producer = new RecordProducer(s.kafka.brokers, 'bench-assignment', 15_000);
  await producer.connect();
  const weights = zipfLoads(partitions, 1.0, rate);
  const keys: string[][] = Array.from({ length: partitions }, () => []);
  for (let i = 0; keys.some((k) => k.length < 4); i++) {
    const key = `msisdn:+3519200${String(i).padStart(5, '0')}`;
    const p = partitionOf(key, partitions);
    if (keys[p]!.length < 4) keys[p]!.push(key);
  }
  // Traffic: each 100 ms tick sends each partition its share (fractions carried over).
  const owed = new Array<number>(partitions).fill(0);
  let n = 0;
  const traffic = setInterval(() => {
    for (let p = 0; p < partitions; p++) {
      owed[p]! += weights[p]! / 10;
      for (; owed[p]! >= 1; owed[p]! -= 1) {
        const key = keys[p]![n++ % 4]!;
        const e = mapEvent(
          key,
          'updateLocation',
          'invoke',
          Date.now(),
          { vlrNumber: '351910999001', mscNumber: '351910999001', opc: 100, dpc: 200 },
          { eventId: `b${n}` },
        );
        producer.send(topicName(prefix, 'signaling-events'), key, serde.encode('signaling-events', e)).catch(() => {});
      }
    }
  }, 100);

  const ems: Array<{ id: string; em: EventManager }> = [];
  const owners = () => {
    const o = new Map<number, string>();
    for (const { id, em } of ems) for (const a of em.processor.assignments()) if (a.topic.endsWith('signaling-events')) o.set(a.partition, id);
    return o;
  };
  const settle = async () => {
    const t0 = Date.now();
    let last = '';
    let since = Date.now();
    while (Date.now() - t0 < 60_000) {
      const o = owners();
      const sig = JSON.stringify([...o].sort((a, b) => a[0] - b[0]));
      if (sig !== last) [last, since] = [sig, Date.now()];
      else if (o.size === partitions && ems.every(({ id }) => [...o.values()].includes(id)) && Date.now() - since >= 2000) return { o, ms: since - t0 };
      await sleep(100);
    }
    throw new Error(`no stable assignment within 60 s: ${last}`);
  };
  const report = (what: string, before: Map<number, string>, r: { o: Map<number, string>; ms: number }) => {
    const moved = [...r.o].filter(([p, m]) => before.has(p) && before.get(p) !== m).length;
    const per = ems.map(({ id }) => [...r.o].filter(([, m]) => m === id).reduce((sum, [p]) => sum + weights[p]!, 0));
    const mean = rate / ems.length;
    const parts = ems
      .map(
        ({ id }) =>
          `${id}=[${[...r.o]
            .filter(([, m]) => m === id)
            .map(([p]) => p)
            .join(',')}]`,
      )
      .join(' ');
    console.log(
      `${what.padEnd(14)} rebalance ${String(r.ms).padStart(5)} ms  moved ${moved}/${partitions}  load ${per.map((x) => x.toFixed(0)).join(' ')} ev/s  max/mean ${(Math.max(...per) / mean).toFixed(2)}  ${parts}`,
    );
  };
  const join = async (name: string) => {
    const id = `bench-${assignor}-${name}`;
    ems.push({ id, em: await startEventManager(s, { memberId: id, rulesSchema, assignor, membership: { reportIntervalMs: 1000 } }) });
  };
  try {
    console.log(`real: assignor ${assignor}, ${partitions} partitions, Zipf(1.0) traffic ${weights.join(' ')} events/s`);
    await join('1');
    let prev = (await settle()).o;
    await sleep(4000); // reports carry the measured load
    for (const name of ['2', '3']) {
      await join(name);
      const r = await settle();
      report(`+${name} (${ems.length})`, prev, r);
      prev = r.o;
      await sleep(3000);
    }
    const leaving = ems.pop()!;
    await leaving.em.stop();
    const r = await settle();
    report(`-3 (${ems.length})`, prev, r);
  } finally {
    clearInterval(traffic);
    for (const { em } of ems.reverse()) await em.stop().catch(() => {});
    await producer.close();
    await withAdmin(s.kafka.brokers, async (admin) => {
      const mine = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
      if (mine.length) await admin.deleteTopics({ topics: mine, timeout: 30_000 });
    }).catch(() => {});
    const pg = (await import('pg')).default;
    const c = new pg.Client({ connectionString: s.database.url });
    await c
      .connect()
      .then(() => c.query(`DROP SCHEMA IF EXISTS ${rulesSchema} CASCADE`))
      .finally(() => c.end())
      .catch(() => {});
    await broker.stop();
  }
}

const [mode, ...rest] = process.argv.slice(2);
const assignorFlag = rest[rest.indexOf('--assignor') + 1] ?? 'load';
if (mode === 'simulate') await simulate();
else if (mode === 'real') await real(rest.includes('--assignor') ? assignorFlag : 'load');
else {
  console.error('usage: npx tsx bench/assignment.ts simulate | real [--assignor load|range]');
  process.exitCode = 2;
}
