// Call-handling decision latency (issue 16 part 5: p99 < 20 ms at 2,000
// decisions/s): one event manager owning 2,000 live subscribers (attached,
// some in a call, a quarter with a transfer profile), its member API, and the
// SIP redirect server asking it. Offered open-loop at 2,000/s: 4 s over HTTP
// (GET /subscribers/{key}/call-handling), then 4 s of INVITEs over UDP to the
// redirect server (which asks the member API), after a 1 s warm-up. Prints
// achieved rate, answers by kind and p50/p99/max of request → answer.
// The load generator runs in the same process (one event loop with the
// member, the API and the redirect server): the figures include its cost, and
// the CPU time per answer says what the whole costs, loaded machine or not.
//   PRESENCE_HOME=… npx tsx bench/callHandling.ts
import { createSocket } from 'node:dgram';
import http from 'node:http';
import { MemberReportsView } from '../coordinator/memberReportsReader.ts';
import { directoryResolver } from '../front-end/sipFrontEnd.ts';
import { RecordProducer } from '../kafka/recordProducer.ts';
import { parseSipMessage } from '../protocols/decode/sip/index.ts';
import { RecordSerde } from '../schemas/serde.ts';
import { CallHandlingServer } from '../services/call-handling/callHandlingServer.ts';
import { OwnerDecisions } from '../services/call-handling/ownerDecisions.ts';
import { startEventManager } from '../streams/event-manager/eventManager.ts';
import { startMemberApi } from '../streams/event-manager/introspection/memberApi.ts';
import { AvailabilityStore } from '../subscriber/availability/availabilityStore.ts';
import { dropSchema, testDatabaseUrl } from '../test/support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../test/support/isolatedStack.ts';
import { isupEvent, mapEvent } from '../test/support/signalingEvents.ts';
import { eventually } from '../test/support/wait.ts';

const HOST = '127.0.0.1';
const SUBSCRIBERS = 2_000;
const RATE = 2_000;
const PHASE_S = 4;
const WARMUP_S = 1;
const GRACE_MS = 2_000;

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

function summary(label: string, offered: number, latenciesMs: number[], answers: Record<string, number>, seconds: number): string {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const q = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.toFixed(1) : '-');
  return (
    `${label}: offered ${offered} at ${RATE}/s, answered ${sorted.length} (${(sorted.length / seconds).toFixed(0)}/s over the phase), ` +
    `p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${sorted.length ? sorted.at(-1)!.toFixed(1) : '-'} ms; answers ${JSON.stringify(answers)}`
  );
}

async function main(): Promise<void> {
  const base = isolatedSettings('bench-call-handling', 4);
  const s = { ...base, database: { ...base.database, url: testDatabaseUrl } };
  const schema = `bench_call_handling_${process.pid}`;
  await applyIsolated(s);
  const producer = new RecordProducer(s.kafka.brokers, 'bench-call-handling', 15_000);
  await producer.connect();
  const serde = new RecordSerde(s.registry.url, s.topics.prefix);
  await serde.loadIds();
  const profiles = new AvailabilityStore(s.database.url, schema);
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

  const api = await startMemberApi(s, { memberId: 'em-bench-ch', port: 0, host: HOST });
  const em = await startEventManager(s, { memberId: 'em-bench-ch', rulesSchema: schema, membership: { httpUrl: api.url, reportIntervalMs: 500 } });
  api.serve(em);
  const view = await MemberReportsView.open(s, { follow: true });
  let redirect: CallHandlingServer | undefined;
  const owners = new OwnerDecisions(view, { timeoutMs: 1000 });
  try {
    await eventually('partitions restored', () => em.processor.ctx.partitions().length === 4, { timeoutMs: 60_000 });
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
    await eventually('the events applied', () => em.stats.signals >= events, { timeoutMs: 120_000 });
    await eventually('the owner reported', () => view.ownerOfKey(keyOf(0))?.httpUrl === api.url, { timeoutMs: 30_000 });
    redirect = await CallHandlingServer.start({ host: HOST, port: 0, owners, resolveKey: directoryResolver(s) });
    console.log(`${SUBSCRIBERS} subscribers live (${events} events), ${SUBSCRIBERS / 4} with a transfer profile, ${SUBSCRIBERS / 10} in a call`);

    // HTTP: the member API directly, over kept-alive connections (as OwnerDecisions asks it).
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const ask = (path: string) =>
      new Promise<{ status: number; body: { action?: string; reason?: string } }>((resolve, reject) => {
        const req = http.get(`${api.url}${path}`, { agent }, (res) => {
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

    // SIP: INVITEs to the redirect server, which asks the member API.
    const ua = createSocket('udp4');
    await new Promise<void>((r) => ua.bind(0, HOST, r));
    const uaPort = ua.address().port;
    const started = new Map<string, number>();
    const latencies: number[] = [];
    const answers: Record<string, number> = {};
    ua.on('message', (b) => {
      const m = parseSipMessage(b);
      const branch = m.topVia?.branch ?? '';
      const t0 = started.get(branch);
      if (t0 === undefined || m.status === undefined || m.status < 200) return;
      started.delete(branch);
      latencies.push(performance.now() - t0);
      answers[m.status] = (answers[m.status] ?? 0) + 1;
    });
    const invite = (i: number) => {
      const user = keyOf(i % SUBSCRIBERS).slice('msisdn:'.length);
      const branch = `z9hG4bK-bench-${i}-${Math.random().toString(36).slice(2, 8)}`;
      const msg =
        `INVITE tel:${user} SIP/2.0\r\nVia: SIP/2.0/UDP ${HOST}:${uaPort};branch=${branch}\r\nMax-Forwards: 70\r\n` +
        `From: <sip:caller${i}@example.com>;tag=t${i}\r\nTo: <tel:${user}>\r\nCall-ID: bench-${i}-${branch}\r\nCSeq: 1 INVITE\r\n` +
        `Contact: <sip:caller@${HOST}:${uaPort}>\r\nContent-Length: 0\r\n\r\n`;
      started.set(branch, performance.now());
      ua.send(msg, redirect!.port, HOST);
    };
    const cpu0 = process.cpuUsage();
    const offered = await offer(RATE, PHASE_S, invite);
    const deadline = Date.now() + GRACE_MS;
    while (started.size > 0 && Date.now() < deadline) await sleep(20);
    console.log(
      summary('SIP redirect server', offered, latencies, answers, PHASE_S) +
        `; unanswered ${started.size}; redirect server retransmissions seen ${redirect.stats.retransmissions}` +
        cpuPer(cpu0, latencies.length),
    );
    ua.close();
  } finally {
    await redirect?.stop();
    owners.close();
    await view.close();
    await em.stop();
    await api.close();
    await producer.close();
    await dropSchema(schema);
    await cleanupIsolated(s);
  }
}

await main();
