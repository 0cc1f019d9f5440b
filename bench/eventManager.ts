// Benchmark: one event manager's throughput, its changelog restore (time and
// memory per subscriber), its restart from local state checkpoints, and the
// processing pause a rebalance causes.
//   node --expose-gc --import tsx bench/eventManager.ts   (exact heap figures)
//   npx tsx bench/eventManager.ts                         (heap figures without a forced GC)
// Needs `presence stack up`. Sizes from the environment:
//   BENCH_SUBSCRIBERS=50000 BENCH_EVENTS=200000   pre-loaded signaling (events cycle
//       updateLocation invoke → result → purgeMS per subscriber, so each one changes presence)
//   BENCH_RATE=1000 BENCH_BASELINE_S=10 BENCH_REBALANCE_S=25   the rebalance part (BENCH_REBALANCE=0 skips it)
//   BENCH_VERBOSE=1 prints pre-load progress and the members' log lines (assignments, restores)
// Runs against its own topic prefix, consumer group and rules schema, all removed at the end.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadSettings } from '../config/settings.ts';
import { SignalingPublisher } from '../taps/signalingPublisher.ts';
import { applyTopology } from '../kafka/applyTopology.ts';
import type { SignalingEvent } from '../schemas/generated/records.ts';
import { topicName } from '../schemas/topology.ts';
import { EVENT_MANAGER_GROUP, startEventManager, type EventManager } from '../streams/event-manager/eventManager.ts';
import { mapEvent } from '../test/support/signalingEvents.ts';
import { eventually, sleep } from '../test/support/wait.ts';
import { withAdmin } from '../kafka/kafkaAdmin.ts';
import { connectConsumer, disconnect, type Consumer } from '../kafka/rdkafkaPromises.ts';
import Kafka from 'node-rdkafka';
import type { InputRecord } from '../kafka/transactionalProcessor.ts';

const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 50_000);
const EVENTS = Math.max(Number(process.env.BENCH_EVENTS ?? 200_000), SUBSCRIBERS);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const BASELINE_S = Number(process.env.BENCH_BASELINE_S ?? 10);
const REBALANCE_S = Number(process.env.BENCH_REBALANCE_S ?? 25);
const REBALANCE = process.env.BENCH_REBALANCE !== '0';
const DB_URL = process.env.PRESENCE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const base = loadSettings();
const prefix = `bench-em-${Date.now().toString(36)}.`;
const s = { ...base, topics: { ...base.topics, prefix }, database: { ...base.database, url: DB_URL } };
const PARTITIONS = s.topics.partitions;
const rulesSchema = `bench_em_rules_${process.pid}`;
const signalingTopic = topicName(prefix, 'signaling-events');
/** Members keep state checkpoints here (removed at the end); each member id has its own subdirectory. */
const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-em-state-'));

const gc = (globalThis as { gc?: () => void }).gc;
const MiB = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
const rate = (n: number, ms: number) => Math.round((n * 1000) / ms).toLocaleString('en');
const now = () => performance.now();

/** What is awaited, with the member's processor stats at the deadline (a stalled run says where it stalled). */
const withStats = (what: string, em: EventManager) => () => `${what} (processor ${JSON.stringify(em.processor.stats)})`;

function settle(): NodeJS.MemoryUsage {
  if (gc) {
    gc();
    gc();
  }
  return process.memoryUsage();
}

/** The i-th event of the stream: subscriber i mod K, and its (i div K)-th step of attach → attached → purged. */
const subscriberKey = (n: number) => `msisdn:+3519${String(n).padStart(8, '0')}`;
function event(i: number, time: number): SignalingEvent {
  const sub = subscriberKey(i % SUBSCRIBERS);
  const digits = sub.slice(8);
  switch (Math.floor(i / SUBSCRIBERS) % 3) {
    case 0:
      return mapEvent(
        sub,
        'updateLocation',
        'invoke',
        time,
        { vlrNumber: '351910999001', mscNumber: '351910999001', opc: 100, dpc: 200 },
        { eventId: `b${i}`, identities: { imsi: null, msisdn: digits, aor: null } },
      );
    case 1:
      return mapEvent(
        sub,
        'updateLocation',
        'result',
        time,
        { hlrNumber: '351910999900', opc: 200, dpc: 100 },
        { eventId: `b${i}`, identities: { imsi: null, msisdn: digits, aor: null } },
      );
    default:
      return mapEvent(
        sub,
        'purgeMS',
        'invoke',
        time,
        { vlrNumber: '351910999001', opc: 100, dpc: 200 },
        { eventId: `b${i}`, identities: { imsi: null, msisdn: digits, aor: null } },
      );
  }
}

/** Per-partition processing times, seen through the members' beforeBatch hook (all members share it). */
interface PartitionTrace {
  last: number;
  maxGap: number;
  maxGapAt: number;
  maxLatency: number;
  member: string;
}
let phase: 'off' | 'baseline' | 'rebalance' = 'off';
const traces = { baseline: new Map<number, PartitionTrace>(), rebalance: new Map<number, PartitionTrace>() };
const lastSeen = new Map<number, number>();
function hook(member: string) {
  return (batch: InputRecord[]) => {
    if (phase === 'off') return;
    const t = now();
    const wall = Date.now();
    const table = traces[phase];
    for (const r of batch) {
      if (r.topic !== signalingTopic) continue;
      const prev = lastSeen.get(r.partition);
      lastSeen.set(r.partition, t);
      let tr = table.get(r.partition);
      if (!tr) table.set(r.partition, (tr = { last: t, maxGap: 0, maxGapAt: t, maxLatency: 0, member }));
      if (prev !== undefined && t - prev > tr.maxGap) {
        tr.maxGap = t - prev;
        tr.maxGapAt = t;
      }
      tr.last = t;
      tr.member = member;
      if (r.timestamp !== undefined) tr.maxLatency = Math.max(tr.maxLatency, wall - r.timestamp);
    }
  };
}

/** Committed current-presence outputs per partition (a read_committed reader, no group): when results become visible. */
const outTraces = { baseline: new Map<number, PartitionTrace>(), rebalance: new Map<number, PartitionTrace>() };
const outLast = new Map<number, number>();
async function watchOutputs(): Promise<Consumer> {
  const c = new Kafka.KafkaConsumer(
    { 'metadata.broker.list': s.kafka.brokers, 'group.id': `bench-em-reader-${process.pid}`, 'enable.auto.commit': false, 'isolation.level': 'read_committed' },
    { 'auto.offset.reset': 'latest' },
  );
  await connectConsumer(c);
  c.setDefaultConsumeTimeout(50);
  c.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: topicName(prefix, 'current-presence'), partition, offset: -1 })));
  c.on('data', (m) => {
    if (phase === 'off') return;
    const t = now();
    const table = outTraces[phase];
    const prev = outLast.get(m.partition);
    outLast.set(m.partition, t);
    let tr = table.get(m.partition);
    if (!tr) table.set(m.partition, (tr = { last: t, maxGap: 0, maxGapAt: t, maxLatency: 0, member: '' }));
    if (prev !== undefined && t - prev > tr.maxGap) {
      tr.maxGap = t - prev;
      tr.maxGapAt = t;
    }
    tr.last = t;
    if (m.timestamp !== undefined) tr.maxLatency = Math.max(tr.maxLatency, Date.now() - m.timestamp);
  });
  c.consume();
  return c;
}

/** Log lines of the members, timestamped (assignments, revocations, restores). */
const events: Array<{ t: number; member: string; line: string }> = [];
async function member(id: string): Promise<EventManager> {
  return startEventManager(s, {
    memberId: id,
    rulesSchema,
    checkpoints: { dir: path.join(stateDir, id), intervalS: 60 },
    beforeBatch: hook(id),
    log: (line) => {
      events.push({ t: now(), member: id, line });
      if (process.env.BENCH_VERBOSE) console.log(`  [${id}] ${line}`);
    },
  });
}

/** Each member's current assignment, topic-partition by topic-partition, replayed from its log lines. */
function assignment(id: string): Map<string, Set<number>> {
  const owned = new Map<string, Set<number>>();
  for (const e of events) {
    if (e.member !== id) continue;
    const m = /^(assigned|revoked) (.*)$/.exec(e.line);
    if (!m) continue;
    for (const tp of m[2]!.matchAll(/(\S+)\[(\d+)\]/g)) {
      const topic = tp[1]!.slice(prefix.length);
      if (!owned.has(topic)) owned.set(topic, new Set());
      if (m[1] === 'assigned') owned.get(topic)!.add(Number(tp[2]));
      else owned.get(topic)!.delete(Number(tp[2]));
    }
  }
  return owned;
}
const showAssignment = (id: string) => [...assignment(id)].map(([t, ps]) => `${t}[${[...ps].sort((a, b) => a - b).join(',')}]`).join(' ');

const restoreLines = (id: string) =>
  events
    .filter((e) => e.member === id)
    .map((e) => /partition (\d+): restored (\d+) subscribers from (\d+) changelog records(?: \(.*\))? in (\d+) ms/.exec(e.line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ partition: Number(m[1]), keys: Number(m[2]), records: Number(m[3]), ms: Number(m[4]) }));

console.log(
  `# event manager benchmark (node ${process.version}, ${new Date().toISOString()}, ${os.cpus().length} cores, load ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')})`,
);
console.log(
  `${SUBSCRIBERS.toLocaleString('en')} subscribers, ${EVENTS.toLocaleString('en')} pre-loaded events, ${PARTITIONS} partitions, prefix ${prefix}${gc ? '' : ' (no --expose-gc: heap figures without a forced GC)'}`,
);

const ems: EventManager[] = [];
let publisher: SignalingPublisher | undefined;
let reader: Consumer | undefined;
try {
  await applyTopology(s);

  // ---- pre-load ----
  publisher = new SignalingPublisher(s, 'bench-em-load');
  await publisher.connect();
  {
    const t0 = now();
    const T0 = Date.now() - 120_000;
    const rounds = Math.ceil(EVENTS / SUBSCRIBERS);
    for (let i = 0; i < EVENTS; i++) {
      await publisher.publish(event(i, T0 + Math.floor(i / SUBSCRIBERS) * Math.floor(100_000 / rounds) + (i % 1000)));
      if (process.env.BENCH_VERBOSE && i % 10_000 === 0) console.log(`  pre-load ${i} (${(now() - t0).toFixed(0)} ms)`);
    }
    await publisher.drain();
    const ms = now() - t0;
    console.log(
      `pre-load: ${EVENTS.toLocaleString('en')} events (${(publisher.stats.bytes / EVENTS).toFixed(0)} B avg) into ${signalingTopic} in ${(ms / 1000).toFixed(1)}s = ${rate(EVENTS, ms)} events/s`,
    );
  }

  // ---- 1. throughput of one member over the backlog ----
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const em1 = await member('bench-em-1');
  ems.push(em1);
  await eventually(withStats('the first signal', em1), () => em1.stats.signals > 0, { timeoutMs: 120_000, intervalMs: 10 });
  const tFirst = now();
  await eventually(withStats(`${EVENTS} committed records`, em1), () => em1.processor.stats.records >= EVENTS, { timeoutMs: 600_000, intervalMs: 10 });
  const tDone = now();
  const cpu = process.cpuUsage(cpu0);
  const p = em1.processor.stats;
  console.log(`\n## 1. throughput, one member, ${EVENTS.toLocaleString('en')} events backlog`);
  console.log(`start → first record: ${((tFirst - t0) / 1000).toFixed(1)}s (join, initial rebalance delay, empty restore)`);
  console.log(
    `first record → all committed: ${EVENTS.toLocaleString('en')} events in ${((tDone - tFirst) / 1000).toFixed(1)}s = ${rate(EVENTS, tDone - tFirst)} events/s ` +
      `(${rate(EVENTS, tDone - t0)} events/s including start-up)`,
  );
  console.log(
    `  ${p.transactions} transactions (${(p.records / Math.max(1, p.transactions)).toFixed(0)} records avg), ${p.aborts} aborts, ${em1.stats.presenceChanges.toLocaleString('en')} presence changes, ` +
      `${p.outputs.toLocaleString('en')} outputs; CPU of this process ${((cpu.user + cpu.system) / 1e6).toFixed(1)}s = ${((cpu.user + cpu.system) / (tDone - t0) / 10).toFixed(0)}% of one core; RSS ${MiB(process.memoryUsage().rss)}`,
  );

  // ---- 2. restore time and memory per subscriber ----
  const heldByEm1 = em1.processor.ctx.partitions().reduce((n, q) => n + em1.processor.ctx.store(q).size, 0);
  const m1 = settle();
  await em1.stop();
  ems.length = 0;
  const before = settle();
  const r0 = now();
  let em2 = await member('bench-em-2');
  ems.push(em2);
  await eventually(withStats(`restores of ${PARTITIONS} partitions`, em2), () => em2.processor.stats.restores >= PARTITIONS, {
    timeoutMs: 300_000,
    intervalMs: 10,
  });
  const restoredAt = now();
  await em2.processor.restored();
  // The timer indexes are rebuilt in the background after a restore: part of what the member holds.
  await eventually('timer indexes rebuilt', () => em2.timersIndexing().length === 0 || undefined, { timeoutMs: 120_000, intervalMs: 10 });
  const indexedAt = now();
  const after = settle();
  const keys = em2.processor.ctx.partitions().reduce((n, q) => n + em2.processor.ctx.store(q).size, 0);
  const lines = restoreLines('bench-em-2');
  const restoreMs = Math.max(0, ...lines.map((l) => l.ms));
  const firstAssigned = events.find((e) => e.member === 'bench-em-2' && e.line.startsWith('assigned'))?.t ?? r0;
  const perSub = (after.heapUsed - before.heapUsed) / keys;
  const perSubRss = (after.rss - before.rss) / keys;
  console.log(`\n## 2. restore by a new member, and memory per subscriber`);
  console.log(`member 1 held ${heldByEm1.toLocaleString('en')} subscribers (heap ${MiB(m1.heapUsed)}, RSS ${MiB(m1.rss)} before stopping)`);
  console.log(
    `restore: ${em2.processor.stats.restoredRecords.toLocaleString('en')} changelog records → ${keys.toLocaleString('en')} subscribers over ${em2.processor.stats.restores} partitions; ` +
      `restore pass ${restoreMs} ms (${rate(em2.processor.stats.restoredRecords, Math.max(1, restoreMs))} records/s); start → assigned ${((firstAssigned - r0) / 1000).toFixed(1)}s; start → all restored ${((restoredAt - r0) / 1000).toFixed(1)}s; start → timers indexed ${((indexedAt - r0) / 1000).toFixed(1)}s`,
  );
  console.log(
    `memory (measured${gc ? ', after global.gc()' : ', no forced GC'}): heapUsed ${MiB(before.heapUsed)} → ${MiB(after.heapUsed)} = ${perSub.toFixed(0)} B/subscriber; ` +
      `RSS ${MiB(before.rss)} → ${MiB(after.rss)} = ${perSubRss.toFixed(0)} B/subscriber; external+arrayBuffers ${MiB(before.external)} → ${MiB(after.external)}`,
  );
  console.log(
    `  extrapolated (linear, not measured) to 1,000,000 subscribers: heap ≈ ${MiB(perSub * 1e6)}, RSS ≈ ${MiB(perSubRss * 1e6)}; ` +
      `restore ≈ ${(((restoreMs / Math.max(1, em2.processor.stats.restoredRecords)) * (1e6 * (em2.processor.stats.restoredRecords / keys))) / 1000).toFixed(0)}s at ${(em2.processor.stats.restoredRecords / keys).toFixed(1)} changelog records per subscriber`,
  );

  // ---- 2b. restart from local checkpoints: the checkpoint + the changelog after it ----
  {
    // A full restore is followed by a checkpoint at once; a clean stop writes any newer one and waits for it.
    await eventually(withStats('checkpoints after the restore', em2), () => em2.processor.stats.checkpoints.writes >= PARTITIONS, {
      timeoutMs: 300_000,
      intervalMs: 50,
    });
    const w = em2.processor.stats.checkpoints;
    const files = await fs.readdir(path.join(stateDir, 'bench-em-2'), { recursive: true });
    let bytes = 0;
    for (const f of files) if (String(f).endsWith('.checkpoint')) bytes += (await fs.stat(path.join(stateDir, 'bench-em-2', String(f)))).size;
    await em2.stop();
    ems.length = 0;
    const w0 = now();
    em2 = await member('bench-em-2');
    ems.push(em2);
    await eventually(withStats(`restores of ${PARTITIONS} partitions from checkpoints`, em2), () => em2.processor.stats.restores >= PARTITIONS, {
      timeoutMs: 300_000,
      intervalMs: 10,
    });
    const warmAt = now();
    await eventually('timer indexes rebuilt', () => em2.timersIndexing().length === 0 || undefined, { timeoutMs: 120_000, intervalMs: 10 });
    const warmIndexedAt = now();
    const c = em2.processor.stats.checkpoints;
    const warmKeys = em2.processor.ctx.partitions().reduce((n, q) => n + em2.processor.ctx.store(q).size, 0);
    const firstAssignedWarm = events.filter((e) => e.member === 'bench-em-2' && e.line.startsWith('assigned')).at(-1)?.t ?? w0;
    const warmPass = Math.max(
      0,
      ...restoreLines('bench-em-2')
        .slice(-PARTITIONS)
        .map((l) => l.ms),
    );
    const loads = events
      .filter((e) => e.member === 'bench-em-2' && e.t >= w0)
      .map((e) => /checkpoint of (\d+) keys at offset -?\d+ loaded in (\d+) ms \((\d+) ms reading/.exec(e.line))
      .filter((m): m is RegExpExecArray => m !== null);
    const loadSum = loads.reduce((a, m) => a + Number(m[2]), 0);
    const readSum = loads.reduce((a, m) => a + Number(m[3]), 0);
    console.log(`\n## 2b. restart of member 2 from its local state checkpoints`);
    console.log(
      `checkpoints written: ${w.writes} (${w.writtenEntries.toLocaleString('en')} keys, ${MiB(bytes)} on disk, ${(w.writeMs / 1000).toFixed(1)}s of background writing)`,
    );
    console.log(
      `restart: ${c.loads} partitions loaded from checkpoints (${c.loadedEntries.toLocaleString('en')} keys) + ${em2.processor.stats.restoredRecords.toLocaleString('en')} changelog records of tail → ` +
        `${warmKeys.toLocaleString('en')} subscribers; restore pass ${warmPass} ms (checkpoint load included); start → assigned ${((firstAssignedWarm - w0) / 1000).toFixed(1)}s; ` +
        `start → all restored ${((warmAt - w0) / 1000).toFixed(1)}s; start → timers indexed ${((warmIndexedAt - w0) / 1000).toFixed(1)}s; fallbacks ${JSON.stringify(c.fallbacks)}`,
    );
    console.log(
      `  checkpoint loads (one after another): ${loadSum} ms in all, of which ${readSum} ms reading and checking files, ${loadSum - readSum} ms decoding into the stores (${rate(c.loadedEntries, Math.max(1, loadSum - readSum))} keys/s)`,
    );
  }

  // ---- 3. pause during a rebalance ----
  if (REBALANCE) {
    console.log(`\n## 3. rebalance under a steady ${RATE} events/s: member 2 processing alone, then member 3 joins`);
    let next = EVENTS;
    let sent = 0;
    let stopSending = false;
    const sender = (async () => {
      const start = now();
      while (!stopSending) {
        const due = Math.floor(((now() - start) / 1000) * RATE);
        while (sent < due) {
          await publisher!.publish(event(next++, Date.now()));
          sent++;
        }
        await sleep(5);
      }
    })();
    reader = await watchOutputs();
    await sleep(2000); // warm up
    phase = 'baseline';
    await sleep(BASELINE_S * 1000);
    phase = 'rebalance';
    lastSeen.clear(); // gaps start at the first record of the window
    outLast.clear();
    const j0 = now();
    const em3 = await member('bench-em-3');
    ems.push(em3);
    await eventually(withStats('member 3 to restore its partitions', em3), () => em3.processor.stats.restores > 0, { timeoutMs: 120_000, intervalMs: 10 });
    await sleep(REBALANCE_S * 1000);
    const jEnd = now();
    stopSending = true;
    await sender;
    // Moved/kept by the signaling topic's partitions (the ones carrying the stream).
    const moved = assignment('bench-em-3').get('signaling-events') ?? new Set<number>();
    const kept = assignment('bench-em-2').get('signaling-events') ?? new Set<number>();
    console.log(`assignment after: member 2 ${showAssignment('bench-em-2')}`);
    console.log(`                  member 3 ${showAssignment('bench-em-3')}`);
    console.log(`stores (ctx.partitions()): member 2 [${em2.processor.ctx.partitions().join(',')}], member 3 [${em3.processor.ctx.partitions().join(',')}]`);
    console.log(
      `dead letters: member 2 ${em2.stats.deadLetters}, member 3 ${em3.stats.deadLetters}; signals processed: member 2 ${em2.stats.signals}, member 3 ${em3.stats.signals}`,
    );
    // An open gap at the end of the window (a partition nobody processed since) counts too.
    for (const tr of [...traces.rebalance.values(), ...outTraces.rebalance.values()])
      if (jEnd - tr.last > tr.maxGap) {
        tr.maxGap = jEnd - tr.last;
        tr.maxGapAt = jEnd; // still open at the end of the window: nothing since
      }
    const rel = (t: number) => `+${((t - j0) / 1000).toFixed(2)}s`;
    for (const e of events.filter((x) => x.t >= j0 && /^(assigned|revoked|partition|batch aborted|rebalance)/.test(x.line))) {
      console.log(`  ${rel(e.t)} [${e.member}] ${e.line.replaceAll(prefix, '')}`);
    }
    console.log(
      `sent ${sent} events over ${((jEnd - j0) / 1000 + BASELINE_S + 2).toFixed(0)}s; member 2 keeps [${[...kept].join(',')}], member 3 took [${[...moved].join(',')}]`,
    );
    console.log(
      `gap = longest time between records of a partition: "in" handed to the member's process() (beforeBatch), "out" committed current-presence seen by a read_committed reader`,
    );
    console.log(
      `partition | owner after      | baseline gap in / out | rebalance window: gap in (at) / gap out (at)  | latency in (event → process) / out (produce → visible)`,
    );
    const rows: Array<{ q: number; moved: boolean; gap: number; lat: number; baseGap: number; outGap: number; outBase: number }> = [];
    for (let q = 0; q < PARTITIONS; q++) {
      const b = traces.baseline.get(q);
      const r = traces.rebalance.get(q);
      const ob = outTraces.baseline.get(q);
      const or = outTraces.rebalance.get(q);
      const isMoved = moved.has(q);
      rows.push({
        q,
        moved: isMoved,
        gap: r?.maxGap ?? NaN,
        lat: r?.maxLatency ?? NaN,
        baseGap: b?.maxGap ?? NaN,
        outGap: or?.maxGap ?? Infinity,
        outBase: ob?.maxGap ?? NaN,
      });
      const f = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(0));
      console.log(
        `${String(q).padStart(9)} | ${isMoved ? 'member 3 (moved)' : kept.has(q) ? 'member 2 (kept) ' : '?               '} | ${f(b?.maxGap).padStart(8)} / ${f(ob?.maxGap).padStart(6)} ms | ` +
          `${f(r?.maxGap).padStart(6)} ms (${r ? rel(r.maxGapAt) : '-'}) / ${or ? `${f(or.maxGap).padStart(6)} ms (${rel(or.maxGapAt)})` : 'no output at all'} | ${f(r?.maxLatency)} / ${f(or?.maxLatency)} ms`,
      );
    }
    const agg = (xs: number[]) =>
      xs.length ? `max ${Math.max(...xs).toFixed(0)} ms, median ${[...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(0)} ms` : '-';
    console.log(
      `kept partitions  (${rows.filter((r) => !r.moved).length}): longest gap ${agg(rows.filter((r) => !r.moved).map((r) => r.gap))}; max latency ${agg(rows.filter((r) => !r.moved).map((r) => r.lat))}`,
    );
    console.log(
      `moved partitions (${rows.filter((r) => r.moved).length}): longest gap ${agg(rows.filter((r) => r.moved).map((r) => r.gap))}; max latency ${agg(rows.filter((r) => r.moved).map((r) => r.lat))}`,
    );
    console.log(`kept partitions,  committed outputs: longest gap ${agg(rows.filter((r) => !r.moved).map((r) => r.outGap))}`);
    console.log(`moved partitions, committed outputs: longest gap ${agg(rows.filter((r) => r.moved).map((r) => r.outGap))}`);
    console.log(`baseline (one member, ${BASELINE_S}s): longest gap in ${agg(rows.map((r) => r.baseGap))}; out ${agg(rows.map((r) => r.outBase))}`);
    console.log(
      `member 2: ${em2.processor.stats.aborts} aborts${em2.processor.stats.lastError ? ` (last: ${em2.processor.stats.lastError.slice(0, 120)})` : ''}; member 3: ${em3.processor.stats.aborts} aborts, restored ${em3.processor.stats.restoredRecords} records`,
    );
  }
} finally {
  phase = 'off';
  if (reader) await disconnect(reader).catch(() => {});
  for (const em of ems.reverse()) await em.stop().catch((e) => console.error(`stop: ${(e as Error).message}`));
  await publisher?.close().catch(() => {});
  await withAdmin(s.kafka.brokers, async (a) => {
    await a.deleteGroups([`${prefix}${EVENT_MANAGER_GROUP}`]).catch(() => {});
    const mine = (await a.listTopics()).filter((t) => t.startsWith(prefix));
    if (mine.length) await a.deleteTopics({ topics: mine, timeout: 30_000 });
  }).catch((e) => console.error(`topic cleanup: ${(e as Error).message}`));
  for (const subj of ((await (await fetch(`${s.registry.url}/subjects`).catch(() => undefined))?.json().catch(() => [])) ?? []) as string[]) {
    if (!subj.startsWith(prefix)) continue;
    await fetch(`${s.registry.url}/subjects/${encodeURIComponent(subj)}`, { method: 'DELETE' }).catch(() => {});
    await fetch(`${s.registry.url}/subjects/${encodeURIComponent(subj)}?permanent=true`, { method: 'DELETE' }).catch(() => {});
  }
  await fs.rm(stateDir, { recursive: true, force: true });
  const c = new pg.Client(DB_URL);
  await c.connect();
  await c.query(`drop schema if exists ${rulesSchema} cascade`);
  await c.end();
}
process.exit(0);
