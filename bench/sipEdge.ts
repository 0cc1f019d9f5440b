// Benchmark: the SIP edge at stepped rates — PUBLISH (answered by the owning
// event manager through Kafka) and SUBSCRIBE (recorded acks=all before the
// 200) offered by SIPp (Debian package sip-tester) to the real front end,
// with a real event manager (`presence run event-manager`, its own process).
//   npx tsx bench/sipEdge.ts
// Needs `presence stack up` and sipp on PATH. From the environment:
//   BENCH_PUBLISH_RATES=500,1500,3000,4500   PUBLISH/s per step ('' skips)
//   BENCH_SUBSCRIBE_RATES=1000,2000,4000     SUBSCRIBE/s per step ('' skips)
//   BENCH_STEP_S=2                           seconds offered per step (calls = rate × seconds)
//   BENCH_BUSY=0                             busy-looping processes sharing the CPU meanwhile
//   BENCH_MAX_IN_FLIGHT=…                    the front end's bound on requests in flight (default its own)
// Per step: offered, 200s, other answers by code (from the front end's stats), SIPp's
// successful/failed calls and retransmissions, and request→final answer p50/p99/max as SIPp saw
// them (retransmissions included: SIPp's T1 is 500 ms). Runs on its own topic prefix, removed at the end.
import { udpRcvbufErrors } from './machineUdpDrops.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { loadSettings } from '../config/settings.ts';
import { startSipFrontEnd, type SipFrontEnd } from '../front-end/sipFrontEnd.ts';
import { scenarioXml } from '../tools/sipp/scenarios.ts';
import { sippAvailable, startSipp } from '../tools/sipp/sipp.ts';
import { applyIsolated, cleanupIsolated } from '../test/support/isolatedStack.ts';
import { openSipUdpClient } from '../test/support/sipUdpClient.ts';
import { freeUdpPort } from '../test/support/ports.ts';
import { sleep } from '../test/support/wait.ts';

const rates = (v: string | undefined, d: string) =>
  (v ?? d)
    .split(',')
    .filter((x) => x.trim() !== '')
    .map(Number);
const PUBLISH_RATES = rates(process.env.BENCH_PUBLISH_RATES, '500,1500,3000,4500');
const SUBSCRIBE_RATES = rates(process.env.BENCH_SUBSCRIBE_RATES, '1000,2000,4000');
const STEP_S = Number(process.env.BENCH_STEP_S ?? 2);
const BUSY = Number(process.env.BENCH_BUSY ?? 0);
const MAX_IN_FLIGHT = process.env.BENCH_MAX_IN_FLIGHT ? Number(process.env.BENCH_MAX_IN_FLIGHT) : undefined;
const HOST = '127.0.0.1';
const DOMAIN = 'ims.example.net';

const base = loadSettings();
const prefix = `bench-edge-${Date.now().toString(36)}.`;
const s = { ...base, topics: { ...base.topics, prefix } };
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

const PIDF = (n: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:${n}@${DOMAIN}">
  <tuple id="t1"><status><basic>open</basic></status></tuple>
</presence>`;

/** UAC: one initial PUBLISH per call (its own presentity), retransmitted from 500 ms (T1), timed to its final answer. */
function publishUac(step: number): string {
  const user = `+3519${step}0[call_number]`;
  return scenarioXml(
    'bench PUBLISH',
    `
  <send retrans="500" start_rtd="1"><![CDATA[

      PUBLISH sip:${user}@${DOMAIN};user=phone SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:${user}@${DOMAIN};user=phone>;tag=p[call_number]
      To: <sip:${user}@${DOMAIN};user=phone>
      Call-ID: [call_id]
      CSeq: 1 PUBLISH
      Max-Forwards: 70
      Event: presence
      Expires: 3600
      Content-Type: application/pidf+xml
      Content-Length: [len]

${PIDF(user)}
    ]]></send>
  <recv response="200" rtd="1"/>`,
  );
}

/** UAC: one initial SUBSCRIBE per call, timed to its final answer. */
function subscribeUac(step: number): string {
  const user = `+3518${step}0[call_number]`;
  return scenarioXml(
    'bench SUBSCRIBE',
    `
  <send retrans="500" start_rtd="1"><![CDATA[

      SUBSCRIBE sip:${user}@${DOMAIN};user=phone SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:watcher@example.com>;tag=w[call_number]
      To: <sip:${user}@${DOMAIN};user=phone>
      Call-ID: [call_id]
      CSeq: 1 SUBSCRIBE
      Contact: <sip:watcher@[local_ip]:[local_port]>
      Max-Forwards: 70
      Event: presence
      Accept: application/pidf+xml
      Expires: 600
      Content-Length: 0

    ]]></send>
  <recv response="200" rtd="1"/>`,
  );
}

interface StepResult {
  method: string;
  rate: number;
  offered: number;
  ok: number;
  other: string;
  sippFailed: number;
  retransmissions: number;
  p50: number;
  p99: number;
  max: number;
  wallS: number;
  udpDrops: number;
}

/** The last row of SIPp's -trace_stat CSV, by column name. */
function lastStats(csv: string | undefined): Map<string, string> {
  const rows = (csv ?? '').trim().split('\n');
  const head = (rows[0] ?? '').split(';');
  const last = (rows[rows.length - 1] ?? '').split(';');
  return new Map(head.map((h, i) => [h, last[i] ?? '']));
}

async function step(fe: SipFrontEnd, method: 'PUBLISH' | 'SUBSCRIBE', rate: number, n: number): Promise<StepResult> {
  const offered = Math.max(1, Math.round(rate * STEP_S));
  const before = { ...fe.stats.responses };
  const port = await freeUdpPort();
  const started = Date.now();
  const dropsBefore = udpRcvbufErrors();
  const run = startSipp({
    scenario: method === 'PUBLISH' ? publishUac(n) : subscribeUac(n),
    args: [
      `${HOST}:${fe.port}`,
      '-i',
      HOST,
      '-p',
      String(port),
      '-t',
      'u1',
      '-r',
      String(rate),
      '-m',
      String(offered),
      '-l',
      String(offered),
      '-trace_stat',
      '-fd',
      '1',
      '-trace_rtt',
      '-rtt_freq',
      '1',
      // SIPp's socket buffers as large as ours: a datagram dropped at either end is a retransmission.
      '-buff_size',
      String(4 * 1024 * 1024),
      '-default_behaviors',
      'all,-bye',
    ],
    deadlineMs: STEP_S * 1000 + 45_000,
    keepFiles: ['_rtt.csv', '_.csv'],
  });
  const r = await run.done;
  const wallS = (Date.now() - started) / 1000;
  const udpDrops = udpRcvbufErrors() - dropsBefore;
  const stats = lastStats(r.files?.['_.csv']);
  const times = (r.files?.['_rtt.csv'] ?? '')
    .split('\n')
    .slice(1)
    .map((l) => Number(l.split(';')[1]))
    .filter((x) => Number.isFinite(x))
    .sort((a, b) => a - b);
  const answers: Record<string, number> = {};
  for (const [code, c] of Object.entries(fe.stats.responses)) {
    const d = c - (before[Number(code)] ?? 0);
    if (d > 0) answers[code] = d;
  }
  return {
    method,
    rate,
    offered,
    ok: answers['200'] ?? 0,
    other:
      Object.entries(answers)
        .filter(([c]) => c !== '200')
        .map(([c, k]) => `${c}:${k}`)
        .join(' ') || '-',
    sippFailed: Number(stats.get('FailedCall(C)') ?? NaN),
    retransmissions: Number(stats.get('Retransmissions(C)') ?? NaN),
    p50: pct(times, 50),
    p99: pct(times, 99),
    max: times[times.length - 1] ?? NaN,
    wallS,
    udpDrops,
  };
}

/** One PUBLISH answered 200 end to end: the event manager has its partitions. */
async function warmUp(fe: SipFrontEnd): Promise<void> {
  const c = await openSipUdpClient({ host: HOST, defaultTimeoutMs: 5000 });
  try {
    for (let i = 0; i < 60; i++) {
      const user = `+35197000${i}`;
      const body = PIDF(user);
      c.socket.send(
        `PUBLISH sip:${user}@${DOMAIN};user=phone SIP/2.0\r\nVia: SIP/2.0/UDP ${HOST}:${c.port};branch=z9hG4bKwarm${i}\r\n` +
          `From: <sip:${user}@${DOMAIN}>;tag=w${i}\r\nTo: <sip:${user}@${DOMAIN}>\r\nCall-ID: warm${i}@bench\r\nCSeq: 1 PUBLISH\r\n` +
          `Max-Forwards: 70\r\nEvent: presence\r\nExpires: 60\r\nContent-Type: application/pidf+xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        fe.port,
        HOST,
      );
      const res = await c.next().catch(() => undefined);
      if (res?.status === 200) return;
      await sleep(1000);
    }
    throw new Error('the event manager never answered a PUBLISH');
  } finally {
    c.close();
  }
}

function startEventManager(): ChildProcess {
  const em = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_EM_NODE_ARGS ?? '').split(' ').filter(Boolean),
      'bin/presence.mjs',
      'run',
      'event-manager',
      '--member-id',
      'bench-edge-em',
      '--stats-interval',
      '3600',
    ],
    {
      env: { ...process.env, PRESENCE_TOPIC_PREFIX: prefix },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  // Its errors only: the assignment and restore lines are noise here.
  em.stderr!.on('data', (d: Buffer) => {
    for (const l of d.toString().split('\n')) if (/error|fail|abort/i.test(l)) process.stderr.write(`[em] ${l}\n`);
  });
  return em;
}

async function main(): Promise<void> {
  if (!sippAvailable()) throw new Error('sipp is not on PATH (Debian: apt-get install sip-tester)');
  await applyIsolated(s);
  const busy: ChildProcess[] = [];
  let em: ChildProcess | undefined;
  let fe: SipFrontEnd | undefined;
  try {
    em = startEventManager();
    fe = await startSipFrontEnd(s, {
      port: 0,
      groups: false,
      frontEndId: `bench-edge-fe-${process.pid}`,
      ...(MAX_IN_FLIGHT ? { maxInFlight: MAX_IN_FLIGHT } : {}),
      log: () => {},
    });
    await warmUp(fe);
    for (let i = 0; i < BUSY; i++) busy.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
    const results: StepResult[] = [];
    let n = 0;
    for (const r of PUBLISH_RATES) results.push(await step(fe, 'PUBLISH', r, n++));
    for (const r of SUBSCRIBE_RATES) results.push(await step(fe, 'SUBSCRIBE', r, n++));
    console.log(`\nSIP edge, ${STEP_S} s per step, ${BUSY} busy processes sharing the CPU; times in ms as SIPp saw them (request → final answer)`);
    console.log('| method | rate/s | offered | 200 | other answers | SIPp failed | retransmissions | p50 | p99 | max | wall s | UDP drops (machine) |');
    console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const x of results)
      console.log(
        `| ${x.method} | ${x.rate} | ${x.offered} | ${x.ok} | ${x.other} | ${x.sippFailed} | ${x.retransmissions} | ${x.p50.toFixed(1)} | ${x.p99.toFixed(1)} | ${x.max.toFixed(1)} | ${x.wallS.toFixed(1)} | ${x.udpDrops} |`,
      );
    console.log(`front end: ${fe.statsLine()}`);
  } finally {
    for (const b of busy) b.kill('SIGKILL');
    await fe?.stop();
    if (em) {
      em.kill('SIGTERM');
      await Promise.race([new Promise((r) => em!.once('exit', r)), sleep(15_000)]);
      em.kill('SIGKILL');
    }
    await cleanupIsolated(s);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
