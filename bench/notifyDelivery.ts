// Benchmark: NOTIFYs delivered per second by the notify sink to real SIP
// watchers (SIPp UAS, Debian package sip-tester), latency from the
// notify-requests record to the watcher's 200, and whether one dead watcher
// holds anyone else back (head-of-line blocking).
//   npx tsx bench/notifyDelivery.ts
// Needs `presence stack up` and sipp on PATH. Sizes from the environment:
//   BENCH_DIALOGS=200 BENCH_PER_DIALOG=25   W watcher dialogs × K NOTIFYs each (M = W·K records per phase)
//   BENCH_T1_MS=250                         the sink's T1: Timer F (64·T1) is how long the dead watcher holds its NOTIFY
//   BENCH_CONCURRENCY=256                   the sink's bound on concurrent transactions
//   BENCH_PACED_RATE=500                    records/s of the paced phase (latency without a backlog)
//   BENCH_SLOW_AFTER_MS=200                 the sink's slowAfterMs (an unanswered transaction leaves its slot for the slow lane)
// Phase 1: M records for W live dialogs (one SIPp process answering every NOTIFY 200), produced as fast as
// Kafka takes them while the sink runs (throughput; latency includes the backlog). Phase 2: the same again (a
// second SIPp), plus one dialog whose watcher never answers (a UDP socket that swallows), its NOTIFY first in the
// topic, on a partition it shares with live dialogs. Phase 3: M records paced at BENCH_PACED_RATE.
// Runs against its own topic prefix and consumer group, removed at the end.
import dgram from 'node:dgram';
import { loadSettings } from '../config/settings.ts';
import { notifyReceiverUas } from '../tools/sipp/scenarios.ts';
import { sippAvailable, startSipp, type SippProcess } from '../tools/sipp/sipp.ts';
import { startNotifySink } from '../connectors/sinks/notify/notifySink.ts';
import { applyTopology } from '../kafka/applyTopology.ts';
import type { DeliveryReport, NotifyRequest } from '../schemas/generated/records.ts';
import { RecordSerde } from '../schemas/serde.ts';
import { TOPICS, topicName, valueSubject } from '../schemas/topology.ts';
import { partitionOf } from '../kafka/partitioner.ts';
import { withAdmin } from '../kafka/kafkaAdmin.ts';
import { RecordProducer } from '../kafka/recordProducer.ts';
import { freeUdpPort } from '../test/support/ports.ts';
import { readTopic } from '../test/support/topicReader.ts';
import { sleep } from '../test/support/wait.ts';

const W = Number(process.env.BENCH_DIALOGS ?? 200);
const K = Number(process.env.BENCH_PER_DIALOG ?? 25);
const T1 = Number(process.env.BENCH_T1_MS ?? 250);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 256);
const PACED_RATE = Number(process.env.BENCH_PACED_RATE ?? 500);
const PARTITIONS = 4;
const HOST = '127.0.0.1';

const base = loadSettings();
const prefix = `bench-notify-${Date.now().toString(36)}.`;
const s = { ...base, topics: { ...base.topics, prefix, partitions: PARTITIONS } };
const serde = new RecordSerde(s.registry.url, prefix);
const log = (line: string) => console.log(line);
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

const PIDF = (key: string, n: number) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:${key.slice(7)}@ims.example.net">\n  <tuple id="t"><status><basic>${n % 2 ? 'open' : 'closed'}</basic></status></tuple>\n</presence>\n`;

function notify(phase: string, w: number, cseq: number, port: number, createdAt: number): NotifyRequest {
  const key = `msisdn:+35191${String(w).padStart(7, '0')}`;
  const callId = `bench-${phase}-${w}`;
  return {
    contactVerified: true,
    notifyId: `${callId}/${cseq}`,
    presentity: key,
    event: 'presence',
    callId,
    localTag: `n${w}`,
    remoteTag: `w${w}`,
    cseq,
    requestUri: `sip:watcher@${HOST}:${port}`,
    fromUri: `sip:${key.slice(7)}@ims.example.net`,
    toUri: 'sip:watcher@example.com',
    routeSet: [],
    subscriptionState: 'active',
    expires: 600,
    reason: null,
    version: cseq,
    contentType: 'application/pidf+xml',
    body: PIDF(key, cseq),
    causeEventId: null,
    createdAt,
  };
}

interface PhaseResult {
  live: { delivered: number; other: number; seconds: number; perSecond: number; p50: number; p99: number; max: number; lastAt: number };
  dead?: { outcome: string; attempts: number; afterMs: number };
}

/** Produces the phase's records as fast as Kafka takes them; returns when each notifyId was created, and the start. */
async function phase(
  name: string,
  producer: RecordProducer,
  sippPort: number,
  deadPort?: number,
  rate?: number,
): Promise<{ created: Map<string, number>; t0: number }> {
  const topic = topicName(prefix, 'notify-requests');
  const created = new Map<string, number>();
  const t0 = Date.now();
  const sends: Promise<unknown>[] = [];
  if (deadPort !== undefined) {
    // The dead watcher's dialog shares its presentity's partition with live dialogs, and comes first.
    const n = notify(`${name}-dead`, 0, 1, deadPort, Date.now());
    created.set(n.notifyId, n.createdAt);
    sends.push(producer.send(topic, n.presentity, serde.encode('notify-requests', n), n.createdAt));
  }
  for (let cseq = 1; cseq <= K; cseq++) {
    for (let w = 0; w < W; w++) {
      if (rate) {
        const due = t0 + (sends.length * 1000) / rate;
        if (due > Date.now() + 5) await sleep(due - Date.now());
      }
      const n = notify(name, w, cseq, sippPort, Date.now());
      created.set(n.notifyId, n.createdAt);
      sends.push(producer.send(topic, n.presentity, serde.encode('notify-requests', n), n.createdAt));
    }
  }
  await Promise.all(sends);
  log(`${name}: produced ${sends.length} records in ${Date.now() - t0} ms`);
  return { created, t0 };
}

async function collect(name: string, expected: number, created: Map<string, number>, t0: number, deadId?: string): Promise<PhaseResult> {
  const reports: DeliveryReport[] = [];
  const seen = new Set<string>();
  const deadline = Date.now() + 55_000;
  while (seen.size < expected && Date.now() < deadline) {
    const got = await readTopic({
      brokers: s.kafka.brokers,
      topic: topicName(prefix, 'delivery-reports'),
      partitions: PARTITIONS,
      count: 0,
      timeoutMs: 10_000,
      settleMs: 700,
    });
    for (const m of got) {
      const r = await serde.decode('delivery-reports', m.value!);
      if (!created.has(r.notifyId) || seen.has(r.notifyId)) continue;
      seen.add(r.notifyId);
      reports.push(r);
    }
    if (seen.size < expected) await sleep(1000);
  }
  const live = reports.filter((r) => r.notifyId !== deadId);
  const delivered = live.filter((r) => r.outcome === 'delivered');
  const lat = delivered.map((r) => r.time - created.get(r.notifyId)!).sort((a, b) => a - b);
  const lastAt = Math.max(...delivered.map((r) => r.time));
  const seconds = (lastAt - t0) / 1000;
  const out: PhaseResult = {
    live: {
      delivered: delivered.length,
      other: live.length - delivered.length,
      seconds,
      perSecond: Math.round(delivered.length / seconds),
      p50: pct(lat, 50),
      p99: pct(lat, 99),
      max: lat.at(-1) ?? NaN,
      lastAt,
    },
  };
  const dead = deadId ? reports.find((r) => r.notifyId === deadId) : undefined;
  if (deadId)
    out.dead = dead
      ? { outcome: dead.outcome, attempts: dead.attempts, afterMs: dead.time - created.get(deadId)! }
      : { outcome: 'no report within the run', attempts: 0, afterMs: NaN };
  if (seen.size < expected) log(`${name}: only ${seen.size} of ${expected} reports arrived`);
  const failed = live.filter((r) => r.outcome !== 'delivered');
  if (failed.length)
    log(
      `${name}: live NOTIFYs not delivered: ${failed
        .slice(0, 10)
        .map(
          (r) =>
            `${r.notifyId} ${r.outcome} (${r.reason ?? r.statusCode}) after ${r.time - created.get(r.notifyId)!} ms, partition ${partitionOf(r.presentity, PARTITIONS)}`,
        )
        .join('; ')}`,
    );
  return out;
}

async function main(): Promise<void> {
  if (!sippAvailable()) throw new Error('sipp is not on PATH (Debian: apt-get install sip-tester)');
  await applyTopology(s);
  await serde.loadIds();
  const producer = new RecordProducer(s.kafka.brokers, 'bench-notify', 15_000);
  await producer.connect();
  const sink = await startNotifySink(s, {
    host: HOST,
    port: 0,
    t1Ms: T1,
    retry: { maxAttempts: 1 },
    maxConcurrent: CONCURRENCY,
    ...(process.env.BENCH_SLOW_AFTER_MS ? { slowAfterMs: Number(process.env.BENCH_SLOW_AFTER_MS) } : {}),
    log: (l) => process.env.BENCH_VERBOSE && log(`sink: ${l}`),
  });
  const sipps: SippProcess[] = [];
  const blackHole = dgram.createSocket('udp4');
  await new Promise<void>((r) => blackHole.bind(0, HOST, () => r()));
  try {
    const deadPort = blackHole.address().port;
    const results: Array<[string, PhaseResult]> = [];
    for (const [name, withDead, rate] of [
      ['live-only', false, undefined],
      ['with-dead', true, undefined],
      [`paced-${PACED_RATE}/s`, false, PACED_RATE],
    ] as const) {
      const port = await freeUdpPort(HOST);
      const sipp = startSipp({
        scenario: notifyReceiverUas(K),
        args: ['-i', HOST, '-p', String(port), '-t', 'u1', '-m', String(W), '-max_socket', '1000'],
        deadlineMs: 58_000,
      });
      sipps.push(sipp);
      await sleep(500); // SIPp binds its socket
      const { created, t0 } = await phase(name, producer, port, withDead ? deadPort : undefined, rate);
      const deadId = withDead ? `bench-${name}-dead-0/1` : undefined;
      const r = await collect(name, created.size, created, t0, deadId);
      const sr = await sipp.done;
      log(`${name}: sipp exit ${sr.code}${sr.code ? ` (${sr.errors.slice(-300)})` : ''}`);
      results.push([name, r]);
    }
    log('');
    log(
      `NOTIFY delivery, ${W} dialogs × ${K} NOTIFYs per phase, ${PARTITIONS} partitions, sink T1 ${T1} ms (Timer F ${(64 * T1) / 1000} s), concurrency ${CONCURRENCY}, 1 attempt`,
    );
    log('| phase | delivered | other outcomes | NOTIFYs/s (first record → last 200) | latency p50 | p99 | max | dead watcher |');
    log('|---|---|---|---|---|---|---|---|');
    for (const [name, r] of results) {
      const d = r.dead ? `${r.dead.outcome} after ${(r.dead.afterMs / 1000).toFixed(1)} s (${r.dead.attempts} attempt)` : '—';
      log(
        `| ${name} | ${r.live.delivered} | ${r.live.other} | ${r.live.perSecond} (${r.live.seconds.toFixed(1)} s) | ${r.live.p50} ms | ${r.live.p99} ms | ${r.live.max} ms | ${d} |`,
      );
    }
    log(
      `dead watcher's partition: ${partitionOf(`msisdn:+35191${'0'.padStart(7, '0')}`, PARTITIONS)} (shared with ${Array.from({ length: W }, (_, w) => partitionOf(`msisdn:+35191${String(w).padStart(7, '0')}`, PARTITIONS)).filter((p) => p === partitionOf('msisdn:+351910000000', PARTITIONS)).length} live dialogs)`,
    );
    log(`sink: ${sink.statsLine()}`);
  } finally {
    for (const p of sipps) p.kill();
    blackHole.close();
    await sink.stop();
    await producer.close();
    await withAdmin(s.kafka.brokers, async (admin) => {
      const mine = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
      if (mine.length) await admin.deleteTopics({ topics: mine, timeout: 30_000 });
    }).catch(() => {});
    for (const t of TOPICS) await fetch(`${s.registry.url}/subjects/${encodeURIComponent(valueSubject(prefix, t.name))}`, { method: 'DELETE' }).catch(() => {});
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
