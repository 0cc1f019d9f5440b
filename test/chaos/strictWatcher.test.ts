// Chaos: strict watchers (issue 12.3, 12.4, 11.5, 11.6). Watchers whose UA
// answers 500 to a CSeq it has seen (as PJSIP does, RFC 3261 §12.2.2) subscribe
// through a real event manager; the notify sink runs as child processes. While
// presence keeps changing: one watcher is cut off for longer than the sink's
// max.poll.interval.ms (its partition's commit point stays behind, so NOTIFYs
// of other dialogs are delivered but not committed), the sink is SIGKILLed (its
// successor re-sends those NOTIFYs with their old CSeqs and gets 500s), and a
// second sink joins the group (rebalance). Then a last change: every watcher
// must get it (none forgotten), carrying the final state, and none may ever see
// a new NOTIFY whose CSeq is below one it has already seen.
//   npm run test:chaos
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotifyRequest, Subscription } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { mapEvent } from '../support/signalingEvents.ts';
import { StrictWatcher } from '../support/strictWatcher.ts';
import { readTopic } from '../support/topicReader.ts';
import { eventually, sleep } from '../support/wait.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PARTITIONS = 4;
const base = isolatedSettings('chaos-strict', PARTITIONS);
const s = { ...base, database: { ...base.database, url: testDatabaseUrl } };
const rulesSchema = `chaos_strict_rules_${process.pid}`;
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const topic = (n: 'subscriptions' | 'signaling-events' | 'notify-requests') => topicName(s.topics.prefix, n);
const W = 8;
const POLL_INTERVAL_MS = 6000;
const T = Date.UTC(2026, 0, 1, 8);
const say = (l: string) => console.log(`[chaos] ${new Date().toISOString().slice(11, 23)} ${l}`);

let producer: RecordProducer;
let em: EventManager | undefined;
const watchers: StrictWatcher[] = [];
const sinks: Array<{ name: string; child: ChildProcess; lines: string[]; exited: boolean }> = [];

const presentity = (i: number) => `msisdn:+3519100007${String(i).padStart(2, '0')}`;
const vlr = (round: number) => `3519109990${String(round).padStart(2, '0')}`;

function subscription(i: number): Subscription {
  return {
    contactVerified: true,
    dialogFilter: null,
    requestId: `chaos-sub-${i}`,
    receivedAt: T,
    presentity: presentity(i),
    presentityUri: `sip:${presentity(i).slice(7)}@ims.example.net`,
    watcherUri: `sip:watcher${i}@example.com`,
    event: 'presence',
    expires: 3600,
    callId: `chaos-${i}-${process.pid}`,
    watcherTag: `w${i}`,
    cseq: 1,
    contact: watchers[i]!.uri,
    routeSet: [],
    accept: ['application/pidf+xml'],
    supported: [],
    body: null,
    frontEnd: 'fe-chaos',
    localTag: `n${i}`,
  };
}

/** Round r: every presentity attaches to VLR r (a new document, so one NOTIFY per watcher). */
async function round(r: number): Promise<void> {
  for (let i = 0; i < W; i++) {
    const t = T + r * 10_000;
    const facts = { vlrNumber: vlr(r), mscNumber: vlr(r), opc: 100, dpc: 200 };
    await producer.send(
      topic('signaling-events'),
      presentity(i),
      serde.encode('signaling-events', mapEvent(presentity(i), 'updateLocation', 'invoke', t, facts)),
    );
    await producer.send(
      topic('signaling-events'),
      presentity(i),
      serde.encode('signaling-events', mapEvent(presentity(i), 'updateLocation', 'result', t + 100, { hlrNumber: '351910999900', opc: 200, dpc: 100 })),
    );
  }
}

async function startSink(name: string, assignedWithinMs = 40_000): Promise<(typeof sinks)[number]> {
  const args = ['run', 'notify-sink', '--port', '0', '--t1-ms', '100', '--max-attempts', '3', '--backoff-ms', '300', '--coalesce'];
  args.push('--max-poll-interval-ms', String(POLL_INTERVAL_MS), '--stats-interval', '2', '--verbose');
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin/presence.mjs'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, PRESENCE_TOPIC_PREFIX: s.topics.prefix, PRESENCE_PARTITIONS: String(PARTITIONS) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const sink = { name, child, lines: [] as string[], exited: false };
  sinks.push(sink);
  const onData = (b: Buffer) => {
    for (const l of b.toString('utf8').split('\n')) if (l.trim()) sink.lines.push(l);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  child.on('exit', () => (sink.exited = true));
  await eventually(`${name} assigned partitions`, () => sink.exited || sink.lines.some((l) => /\bassigned \S/.test(l) && !l.includes('(none)')), {
    timeoutMs: assignedWithinMs,
    intervalMs: 200,
  });
  if (sink.exited) throw new Error(`${name} exited: ${sink.lines.slice(-5).join(' | ')}`);
  say(`${name} running (pid ${child.pid})`);
  return sink;
}

async function kill(sink: (typeof sinks)[number], signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
  if (sink.exited) return;
  const gone = new Promise((r) => sink.child.once('exit', r));
  sink.child.kill(signal);
  await Promise.race([gone, sleep(15_000)]);
  if (!sink.exited) sink.child.kill('SIGKILL');
}

const lastAccepted = (i: number) => watchers[i]!.accepted(`chaos-${i}-${process.pid}`).at(-1);

beforeAll(async () => {
  await applyIsolated(s);
  await serde.loadIds();
  producer = new RecordProducer(s.kafka.brokers, 'chaos-strict', 15_000);
  await producer.connect();
  for (let i = 0; i < W; i++) watchers.push(await StrictWatcher.open());
});

afterAll(async () => {
  for (const k of sinks) await kill(k, 'SIGKILL');
  await em?.stop();
  for (const w of watchers) await w.close();
  await producer?.close();
  await cleanupIsolated(s);
  await dropSchema(rulesSchema);
});

describe('chaos: strict watchers', () => {
  it('SIGKILL before commit, a rebalance and a watcher cut off past the poll interval: no live watcher forgotten, no CSeq backwards, final state everywhere', async () => {
    em = await startEventManager(s, { memberId: 'em-chaos', rulesSchema });
    for (let i = 0; i < W; i++) await producer.send(topic('subscriptions'), presentity(i), serde.encode('subscriptions', subscription(i)));
    const s1 = await startSink('sink-1');
    await eventually('every watcher has its first NOTIFY', () => watchers.every((w) => w.received.some((n) => n.status === 200)), { timeoutMs: 60_000 });

    // Watcher 0 cut off: its NOTIFYs retry, its partition's commit point stays behind the others' deliveries.
    watchers[0]!.cutOff = true;
    const cutAt = Date.now();
    say('watcher 0 cut off');
    for (const r of [1, 2, 3]) await round(r);
    await eventually('watchers 1.. have round 3', () => watchers.slice(1).every((_, k) => lastAccepted(k + 1)?.body.includes(vlr(3))), { timeoutMs: 60_000 });
    say('SIGKILL sink-1 with uncommitted deliveries');
    await kill(s1, 'SIGKILL');
    // Re-sends from the last commit: strict watchers answer 500. It gets the partitions once the broker
    // notices sink-1 is gone (KIP-848 session timeout, 45 s).
    const s2 = await startSink('sink-2', 90_000);
    watchers[0]!.cutOff = false;
    say(`watcher 0 back after ${Date.now() - cutAt} ms`);

    // Watcher 1 cut off, with a running sink, for longer than max.poll.interval.ms, while presence changes
    // and a second sink joins the group (rebalance).
    watchers[1]!.cutOff = true;
    const cut1At = Date.now();
    const s3Start = startSink('sink-3');
    for (const r of [4, 5, 6]) await round(r);
    await s3Start;
    await sleep(Math.max(0, POLL_INTERVAL_MS + 2000 - (Date.now() - cut1At)));
    watchers[1]!.cutOff = false;
    say(`watcher 1 back after ${Date.now() - cut1At} ms`);
    await sleep(2000);
    await round(7); // the final state
    const FINAL = vlr(7);
    await eventually(
      () =>
        `every watcher accepts the final state (${watchers.map((w, i) => `${i}:${lastAccepted(i)?.cseq ?? '-'}${lastAccepted(i)?.body.includes(FINAL) ? '✓' : ''}`).join(' ')})`,
      () => watchers.every((_, i) => lastAccepted(i)?.body.includes(FINAL)),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    await sleep(2000); // anything still in flight would show up now
    for (const [i, w] of watchers.entries()) {
      expect(w.backwards, `watcher ${i} got a new NOTIFY with a CSeq below one it had seen`).toEqual([]);
      expect(lastAccepted(i)!.body, `watcher ${i}'s last NOTIFY carries the final state`).toContain(FINAL);
      expect(lastAccepted(i)!.subscriptionState).toMatch(/^active/);
    }
    // The event manager's side: per dialog, CSeqs only go up, also across the delivery reports.
    const records = await readTopic({
      brokers: s.kafka.brokers,
      topic: topic('notify-requests'),
      partitions: PARTITIONS,
      count: W * 8,
      settleMs: 2000,
      timeoutMs: 20_000,
    });
    const byDialog = new Map<string, number[]>();
    for (const m of records) {
      const n: NotifyRequest = await serde.decode('notify-requests', m.value!);
      byDialog.set(n.callId, [...(byDialog.get(n.callId) ?? []), n.cseq]);
    }
    for (const [callId, cseqs] of byDialog) expect(cseqs, callId).toEqual([...cseqs].sort((a, b) => a - b).filter((c, k, a) => k === 0 || c > a[k - 1]!));
    const resent500 = watchers.reduce((sum, w) => sum + w.received.filter((n) => n.status === 500).length, 0);
    say(
      `500s answered to re-sent CSeqs: ${resent500}; sinks: ${[s2, ...sinks.slice(2)].map((k) => k.lines.filter((l) => l.includes('notify-sink') || l.includes('consumed')).at(-1)).join(' || ')}`,
    );
    expect(resent500).toBeGreaterThan(0); // the chaos did re-send old CSeqs
  }, 300_000);
});
