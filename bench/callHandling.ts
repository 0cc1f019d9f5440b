// Call-handling decision latency (issue 16 part 5: p99 < 20 ms at 2,000
// decisions/s): 2,000 live subscribers (attached, some in a call, a quarter
// with a transfer profile) and three phases, each offered open-loop at 2,000/s
// for 4 s after a 1 s warm-up, each printing achieved rate, answers by kind and
// p50/p99/max of request → answer:
//   http    GET /subscribers/{key}/call-handling on the member API of an event
//           manager in this process (the generator beside it: the CPU time per
//           answer says what the whole costs, loaded machine or not);
//   sip     SIPp INVITEs over UDP to `presence run call-handling` in its own
//           process, which asks that member API;
//   member  SIPp INVITEs to the redirect server inside the member, as deployed:
//           `presence run event-manager --call-handling-port` in its own process
//           (the in-process member stopped first, this one restoring from the
//           changelog), deciding from its store without an HTTP hop; answers by
//           status from its admin port's presence_call_handling_* series.
// SIPp times each INVITE → final answer (-trace_rtt) and ACKs the answers.
//   PRESENCE_HOME=… npx tsx bench/callHandling.ts [--phase http,sip,member]
// Every process shares one PostgreSQL database of the bench's own (profiles and
// the subscriber directory in its default schema), dropped at the end.
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MemberReportsView } from '../coordinator/memberReportsReader.ts';
import { RecordProducer } from '../kafka/recordProducer.ts';
import { RecordSerde } from '../schemas/serde.ts';
import { startEventManager } from '../streams/event-manager/eventManager.ts';
import { startMemberApi } from '../streams/event-manager/introspection/memberApi.ts';
import { AvailabilityStore } from '../subscriber/availability/availabilityStore.ts';
import { SubscriberDirectory } from '../subscriber/directory/subscriberDirectory.ts';
import { adminUrlIn, scrape } from '../test/support/adminScrape.ts';
import { onTestDatabase, testDatabaseUrl } from '../test/support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../test/support/isolatedStack.ts';
import { isupEvent, mapEvent } from '../test/support/signalingEvents.ts';
import { startMemberProcess, type MemberProcess } from '../test/support/memberProcess.ts';
import { openSipBranchClient } from '../test/support/sipUdpClient.ts';
import { eventually } from '../test/support/wait.ts';
import { scenarioXml } from '../tools/sipp/scenarios.ts';
import { startSipp } from '../tools/sipp/sipp.ts';

const HOST = '127.0.0.1';
const SUBSCRIBERS = 2_000;
const RATE = 2_000;
const PHASE_S = 4;
const WARMUP_S = 1;
const GRACE_MS = 2_000;

const PHASES = ['http', 'sip', 'member'] as const;
type Phase = (typeof PHASES)[number];

/** `--phase a,b`: which phases run (default all three, in that order). */
function phasesOf(): Set<Phase> {
  const { values } = parseArgs({ options: { phase: { type: 'string' } } });
  if (values.phase === undefined) return new Set(PHASES);
  const asked = values.phase.split(',').map((p) => p.trim());
  for (const p of asked) if (!(PHASES as readonly string[]).includes(p)) throw new Error(`--phase takes ${PHASES.join(', ')} (comma-separated), not ${p}`);
  return new Set(asked as Phase[]);
}

const keyOf = (i: number) => `msisdn:+3519200${String(i).padStart(5, '0')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Calls `send(i)` open-loop at `rate`/s for `seconds`, in 5 ms ticks. */
async function offer(rate: number, seconds: number, send: (i: number) => void): Promise<number> {
  const total = rate * seconds;
  const started = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
    while (sent < due) send(sent++);
    await sleep(5);
  }
  return total;
}

/** CPU time this process spent per answered request: comparable across loaded and idle machines, unlike the latencies. */
const cpuPer = (since: NodeJS.CpuUsage, answered: number) => {
  const u = process.cpuUsage(since);
  return answered ? `; CPU ${((u.user + u.system) / 1000 / answered).toFixed(2)} ms per answer (all of it: generator, API, member, redirect server)` : '';
};

function summary(label: string, offered: number, latenciesMs: number[], answers: Record<string, number | string>, seconds: number): string {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const q = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.toFixed(1) : '-');
  return (
    `${label}: offered ${offered} at ${RATE}/s, answered ${sorted.length} (${(sorted.length / seconds).toFixed(0)}/s over the phase), ` +
    `p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${sorted.length ? sorted.at(-1)!.toFixed(1) : '-'} ms; answers ${JSON.stringify(answers)}`
  );
}

/** SIPp's injection file: one callee number per call, in turn. */
function writeCallees(numbers: readonly string[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'bench-callees-')), 'callees.csv');
  writeFileSync(file, `SEQUENTIAL\n${numbers.join('\n')}\n`);
  return file;
}

/** A caller's INVITE to the redirect server; any final answer (302, 486, 480, 603; 503 when the owner did not answer in time) is ACKed (RFC 3261 §17.1.1.3) and ends the call. */
function inviteUac(): string {
  const answer = (status: number, last = false) => `\n  <recv response="${status}"${last ? '' : ' optional="true"'} rtd="true" next="ack"/>`;
  return scenarioXml(
    'call-handling INVITE',
    `
  <send retrans="500"><![CDATA[

      INVITE tel:[field0] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      Max-Forwards: 70
      From: <sip:caller[call_number]@example.com>;tag=[call_number]
      To: <tel:[field0]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:caller@[local_ip]:[local_port]>
      Content-Length: 0

    ]]></send>
  <recv response="100" optional="true"/>${answer(302)}${answer(486)}${answer(480)}${answer(503)}${answer(603, true)}
  <label id="ack"/>
  <send><![CDATA[

      ACK tel:[field0] SIP/2.0
      [last_Via:]
      Max-Forwards: 70
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      CSeq: 1 ACK
      Content-Length: 0

    ]]></send>`,
  );
}

/** SIPp offering `calls` INVITEs at RATE/s to the redirect server on `port`, timed per call. */
async function sippPhase(port: number, callees: readonly string[], calls: number) {
  const sipp = await startSipp({
    scenario: inviteUac(),
    args: [`${HOST}:${port}`, '-i', HOST, '-t', 'u1', '-r', String(RATE), '-m', String(calls), '-inf', writeCallees(callees), '-trace_rtt', '-rtt_freq', '1'],
    deadlineMs: (calls / RATE) * 1000 + 20_000,
    keepFiles: ['_rtt.csv'],
  }).done;
  // `date_ms;response_time_ms;rtd_no` per answered call (SIPp -trace_rtt).
  const rtts = (sipp.files?.['_rtt.csv'] ?? '')
    .split('\n')
    .slice(1)
    .map((l) => Number(l.split(';')[1]))
    .filter((x) => Number.isFinite(x));
  return { sipp, rtts };
}

/** A series' values by its one label (e.g. responses by code) in a /metrics text. */
function byLabel(text: string, metric: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(new RegExp(`^${metric}\\{[a-z_]+="([^"]*)"\\} (\\S+)$`, 'gm'))) out[m[1]!] = Number(m[2]);
  return out;
}

const minus = (after: Record<string, number>, before: Record<string, number>) =>
  Object.fromEntries(Object.entries(after).flatMap(([k, v]) => (v - (before[k] ?? 0) ? [[k, v - (before[k] ?? 0)]] : [])));

/**
 * Until the member decides every callee from live state: one INVITE each (200 at a time), again while any is
 * answered 503 (a partition not yet held) or 480 "unknown" (no state yet). Also warms its directory cache.
 */
async function untilLive(port: number, callees: readonly string[]): Promise<void> {
  const ua = await openSipBranchClient(HOST);
  let n = 0;
  try {
    await eventually(
      'the in-member redirect server deciding every callee from live state',
      async () => {
        let notYet = 0;
        for (let i = 0; i < callees.length; i += 200) {
          const answers = await Promise.all(
            callees.slice(i, i + 200).map((c) => {
              const branch = `z9hG4bK-live-${++n}`;
              const text = [
                `INVITE tel:${c} SIP/2.0`,
                `Via: SIP/2.0/UDP ${HOST}:${ua.port};branch=${branch}`,
                'Max-Forwards: 70',
                `From: <sip:probe@example.com>;tag=p${n}`,
                `To: <tel:${c}>`,
                `Call-ID: live-${n}@bench`,
                'CSeq: 1 INVITE',
                'Content-Length: 0',
                '',
                '',
              ].join('\r\n');
              return ua.request(text, branch, port, 5000);
            }),
          );
          notYet += answers.filter((a) => a.status === 503 || (a.status === 480 && /text="unknown"/.test(a.headers.get('reason') ?? ''))).length;
        }
        return notYet === 0 ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1000 },
    );
  } finally {
    await ua.close();
  }
}

async function main(): Promise<void> {
  const phases = phasesOf();
  const base = isolatedSettings('bench-call-handling', 4);
  const database = `bench_call_handling_${process.pid}`;
  const databaseUrl = testDatabaseUrl.replace(/\/[^/]+$/, `/${database}`);
  const s = { ...base, database: { ...base.database, url: databaseUrl } };
  await applyIsolated(s);
  await onTestDatabase(`create database ${database}`);
  const producer = new RecordProducer(s.kafka.brokers, 'bench-call-handling', 15_000);
  await producer.connect();
  const serde = new RecordSerde(s.registry.url, s.topics.prefix);
  await serde.loadIds();
  const profiles = new AvailabilityStore(s.database.url);
  await profiles.migrate();
  for (let i = 0; i < SUBSCRIBERS; i += 4) {
    await profiles.setProfiles(keyOf(i), {
      active: 'p',
      profiles: [
        {
          name: 'p',
          timeZone: 'UTC',
          defaultMode: 'away',
          modes: [{ name: 'away', state: { kind: 'transfer', to: { number: '+33123456789' } } }],
          lists: { allowed: ['sip:boss@corp.example'], denied: [], consent: [], watched: [], others: 'allowed' },
        },
      ],
    });
  }
  await profiles.close();
  // Provisioned, as deployed: the in-member redirect server keys callees through the directory.
  const directory = new SubscriberDirectory(s.database.url);
  await directory.migrate();
  await directory.provision(Array.from({ length: SUBSCRIBERS }, (_, i) => ({ msisdn: keyOf(i).slice('msisdn:'.length), imsi: null, aor: null })));
  await directory.close();

  // The http and sip phases ask a member in this process; the member phase runs one of its own.
  const inProcess = phases.has('http') || phases.has('sip');
  const api = inProcess ? await startMemberApi(s, { memberId: 'em-bench-ch', port: 0, host: HOST }) : undefined;
  let em = api ? await startEventManager(s, { memberId: 'em-bench-ch', membership: { httpUrl: api.url, reportIntervalMs: 500 } }) : undefined;
  if (em) api?.serve(em);
  const view = inProcess ? await MemberReportsView.open(s, { follow: true }) : undefined;
  let redirect: MemberProcess | undefined;
  let member: MemberProcess | undefined;
  const callees = Array.from({ length: SUBSCRIBERS }, (_, i) => keyOf(i).slice('msisdn:'.length));
  try {
    if (em) await eventually('partitions restored', () => em!.processor.ctx.partitions().length === 4, { timeoutMs: 60_000 });
    const now = Date.now();
    let events = 0;
    const sends: Array<Promise<unknown>> = [];
    for (let i = 0; i < SUBSCRIBERS; i++) {
      const k = keyOf(i);
      const batch = [
        mapEvent(k, 'updateLocation', 'invoke', now - 5000, { vlrNumber: '351910999001', mscNumber: '351910999001', opc: 100, dpc: 200 }),
        mapEvent(k, 'updateLocation', 'result', now - 4900, { opc: 200, dpc: 100 }),
        ...(i % 10 === 1
          ? [
              isupEvent(k, 'IAM', now - 3000, { cic: i, opc: 100, dpc: 200, role: 'called' }),
              isupEvent(k, 'ANM', now - 2000, { cic: i, opc: 200, dpc: 100, role: 'called' }),
            ]
          : []),
      ];
      for (const e of batch) sends.push(producer.send(topicName(s.topics.prefix, 'signaling-events'), k, serde.encode('signaling-events', e)));
      events += batch.length;
      if (sends.length >= 500) await Promise.all(sends.splice(0));
    }
    await Promise.all(sends);
    if (em && api && view) {
      await eventually('the events applied', () => em!.stats.signals >= events, { timeoutMs: 120_000 });
      await eventually('the owner reported', () => view.ownerOfKey(keyOf(0))?.httpUrl === api.url, { timeoutMs: 30_000 });
    }
    console.log(`${SUBSCRIBERS} subscribers live (${events} events), ${SUBSCRIBERS / 4} with a transfer profile, ${SUBSCRIBERS / 10} in a call`);

    if (phases.has('http') && api) await httpPhases(api.url);
    if (phases.has('sip')) await sipPhase();
    if (phases.has('member')) await memberPhase();
  } finally {
    await member?.stop('SIGTERM');
    await redirect?.stop('SIGINT');
    await view?.close();
    await em?.stop();
    await api?.close();
    await producer.close();
    await onTestDatabase(`drop database if exists ${database} with (force)`);
    await cleanupIsolated(s);
  }

  async function httpPhases(apiUrl: string): Promise<void> {
    // HTTP: the member API directly, over kept-alive connections (as OwnerDecisions asks it).
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const ask = (path: string) =>
      new Promise<{ status: number; body: { action?: string; reason?: string } }>((resolve, reject) => {
        const req = http.get(`${apiUrl}${path}`, { agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as { action?: string } }));
          res.on('error', reject);
        });
        req.on('error', reject);
      });
    const httpPhase = async (phaseS: number, record: boolean) => {
      const latencies: number[] = [];
      const answers: Record<string, number> = {};
      const cpu0 = process.cpuUsage();
      let outstanding = 0;
      const offered = await offer(RATE, phaseS, (i) => {
        const t0 = performance.now();
        outstanding++;
        ask(`/subscribers/${encodeURIComponent(keyOf(i % SUBSCRIBERS))}/call-handling?caller=sip%3Acaller${i}%40example.com`)
          .then(({ status, body }) => {
            const kind = status === 200 ? `${body.action}${body.reason ? `:${body.reason}` : ''}` : String(status);
            answers[kind] = (answers[kind] ?? 0) + 1;
            latencies.push(performance.now() - t0);
          })
          .catch(() => void (answers.error = (answers.error ?? 0) + 1))
          .finally(() => outstanding--);
      });
      const deadline = Date.now() + GRACE_MS;
      while (outstanding > 0 && Date.now() < deadline) await sleep(20);
      if (record) console.log(summary('HTTP member API', offered, latencies, answers, phaseS) + `; unanswered ${outstanding}` + cpuPer(cpu0, latencies.length));
      // A backlog left over must not be charged to the next phase.
      while (outstanding > 0) await sleep(50);
    };
    await httpPhase(WARMUP_S, false);
    await httpPhase(PHASE_S, true);
    agent.destroy();
  }

  async function sipPhase(): Promise<void> {
    // SIP: SIPp's INVITEs to `presence run call-handling`, which asks the member API.
    redirect = await startMemberProcess(
      s,
      'call-handling',
      ['call-handling', '--host', HOST, '--port', '0', '--no-directory', '--stats-interval', '3600'],
      /listening on /,
    );
    const port = Number(/listening on [^ ]+:(\d+) /.exec((await redirect.waitFor(/listening on /, 30_000)).text)![1]);
    await sippPhase(port, callees, RATE * WARMUP_S);
    const { sipp, rtts } = await sippPhase(port, callees, RATE * PHASE_S);
    console.log(
      summary('SIP redirect server (own process; SIPp)', RATE * PHASE_S, rtts, { 'by status': 'below' }, PHASE_S) +
        `; SIPp exit ${sipp.code} (0: every call answered and ACKed)${sipp.code === 0 ? '' : `: ${sipp.errors.slice(-300)}`}`,
    );
    await redirect.stop('SIGINT');
    console.log(`redirect server: ${redirect.lines.find((l) => /stopping \(/.test(l.text))?.text ?? '(no stats line)'}`);
    redirect = undefined;
  }

  async function memberPhase(): Promise<void> {
    // The in-process member leaves first: the member process then holds every partition (restored from the changelog).
    await em?.stop();
    em = undefined;
    member = await startMemberProcess(
      s,
      'em-bench-ch-member',
      [
        'event-manager',
        '--member-id',
        `em-bench-ch-member-${process.pid}`,
        '--call-handling-port',
        '0',
        '--call-handling-host',
        HOST,
        '--admin-port',
        '0',
        '--stats-interval',
        '3600',
      ],
      /call-handling redirect server listening on /,
      { PRESENCE_DATABASE_URL: databaseUrl },
    );
    const text = member.lines.map((l) => l.text).join('\n');
    const port = Number(/call-handling redirect server listening on [^ ]+:(\d+) /.exec(text)![1]);
    const admin = adminUrlIn(text)!;
    await untilLive(port, callees);
    await sippPhase(port, callees, RATE * WARMUP_S);
    const before = await scrape(admin);
    const { sipp, rtts } = await sippPhase(port, callees, RATE * PHASE_S);
    const after = await scrape(admin);
    const delta = (metric: string) => minus(byLabel(after, metric), byLabel(before, metric));
    console.log(
      summary(
        'SIP redirect server inside the member (run event-manager --call-handling-port; SIPp)',
        RATE * PHASE_S,
        rtts,
        delta('presence_call_handling_responses_total'),
        PHASE_S,
      ) +
        `; decided ${JSON.stringify(delta('presence_call_handling_member_decisions_total'))}` +
        `; SIPp exit ${sipp.code} (0: every call answered and ACKed)${sipp.code === 0 ? '' : `: ${sipp.errors.slice(-300)}`}`,
    );
    await member.stop('SIGTERM');
    member = undefined;
  }
}

await main();
