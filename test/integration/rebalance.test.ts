// Rebalancing under load, against the real broker: event managers run as
// child processes (`presence run event-manager`) while signaling traffic
// flows; members join, one leaves cleanly (SIGTERM), one is killed
// (SIGKILL, its transaction left open until the broker aborts it). For every
// watcher dialog the NOTIFYs read back read_committed must be exactly what a
// single, uninterrupted owner would have sent: versions 1..n contiguous,
// CSeqs increasing, none lost, none twice, the last one showing the last
// event sent. The expectation is computed here with the same pure
// derivation the event manager uses (apply → summary → PIDF), so a lost or
// duplicated NOTIFY, or state that went missing in a handover, shows.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotifyRequest, SignalingEvent, Subscription } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { newSubscriber } from '../../streams/event-manager/managedSubscriber.ts';
import { apply } from '../../streams/event-manager/presence/derive.ts';
import type { SubscriberPresence } from '../../streams/event-manager/presence/model.ts';
import { renderPresence } from '../../streams/event-manager/presence/presenceDocument.ts';
import { summary } from '../../streams/event-manager/presence/summary.ts';
import { connectabilityFor } from '../../streams/event-manager/presence/connectability.ts';
import { withConnectability } from '../../streams/event-manager/presence/connectabilityElement.ts';
import { DEFAULT_PROFILES } from '../../subscriber/availability/settingsProfile.ts';
import { mapEvent } from '../support/signalingEvents.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { repoRoot } from '../support/captures.ts';
import { testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { readTopic } from '../support/topicReader.ts';
import { sleep } from '../support/wait.ts';

const PARTITIONS = 6;
const PRESENTITIES = 30;
const base = isolatedSettings('rebalance', PARTITIONS);
const s = { ...base, database: { ...base.database, url: testDatabaseUrl } };
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const topic = (n: Parameters<typeof topicName>[1]) => topicName(s.topics.prefix, n as never);
const T = Date.UTC(2026, 0, 1, 8);
const logDir = os.tmpdir();
const say = (line: string) => process.stderr.write(`[rebalance ${new Date().toISOString().slice(11, 23)}] ${line}\n`);

let producer: RecordProducer;
/** The event managers use the default rules schema `presence`; dropped afterwards only if this test created it. */
let rulesSchemaExisted = true;

const presentity = (i: number) => `msisdn:+3519110${String(i).padStart(5, '0')}`;
const dialogOf = (i: number) => ({ callId: `rb-dialog-${i}`, remoteTag: `wtag-${i}` });

function subscription(i: number): Subscription {
  const { callId, remoteTag } = dialogOf(i);
  return {
    contactVerified: true,
    dialogFilter: null,
    requestId: `sub-${i}`,
    receivedAt: T,
    presentity: presentity(i),
    presentityUri: `sip:+3519110${String(i).padStart(5, '0')}@ims.example.net`,
    watcherUri: `sip:watcher-${i}@example.com`,
    event: 'presence',
    expires: 7 * 24 * 3600,
    callId,
    watcherTag: remoteTag,
    cseq: 1,
    contact: `sip:watcher-${i}@127.0.0.1:5070`,
    routeSet: [],
    accept: ['application/pidf+xml'],
    supported: [],
    body: null,
    frontEnd: 'fe-test',
    localTag: `fe-tag-${i}`,
  };
}

/** What one uninterrupted owner sends a presentity's watcher: the event manager's publish(), without Kafka. */
class Oracle {
  private presence: SubscriberPresence;
  private notified: string;
  readonly causes: string[];
  lastBody: string;
  lastKind = 'none';
  constructor(
    readonly key: string,
    subscribeId: string,
  ) {
    this.presence = newSubscriber(key).presence;
    this.notified = renderPresence(this.presence);
    this.causes = [subscribeId];
    this.lastBody = this.watcherBody(this.notified, 0);
  }
  /** The watcher's own document: the PIDF with its connectability (no profiles here: the default). */
  private watcherBody(pidf: string, at: number): string {
    return withConnectability(pidf, connectabilityFor(this.presence, DEFAULT_PROFILES, at, { consented: true }).connectability);
  }
  event(e: SignalingEvent): void {
    this.lastKind = `${e.message}/${e.kind}`;
    const r = apply(this.presence, e);
    if (!r.changed) return;
    this.presence = r.state;
    const pidf = summary(this.presence).pidf;
    if (pidf === this.notified) return;
    this.notified = pidf;
    this.causes.push(e.eventId);
    this.lastBody = this.watcherBody(pidf, e.time);
  }
}

/** One cycle per presentity: attaching, attached (open), purged (closed). */
function eventFor(i: number, step: number, time: number): SignalingEvent {
  const key = presentity(i);
  const id = { eventId: `rb-${i}-${step}` };
  switch (step % 3) {
    case 0:
      return mapEvent(key, 'updateLocation', 'invoke', time, { vlrNumber: '351910999001', mscNumber: '351910999001', opc: 100, dpc: 200 }, id);
    case 1:
      return mapEvent(key, 'updateLocation', 'result', time, { hlrNumber: '351910999900', opc: 200, dpc: 100 }, id);
    default:
      return mapEvent(key, 'purgeMS', 'invoke', time, { vlrNumber: '351910999001', opc: 100, dpc: 200 }, id);
  }
}

interface Member {
  id: string;
  child: ChildProcess;
  log: string;
  out: WriteStream;
  exit?: { code: number | null; signal: string | null };
  /** Set when the test itself stopped or killed it. */
  expectedExit?: boolean;
  lines: string[];
}

const members: Member[] = [];

async function startMember(id: string): Promise<Member> {
  const log = path.join(logDir, `${s.topics.prefix}${id}.log`);
  const out = createWriteStream(log);
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin/presence.mjs'), 'run', 'event-manager', '--member-id', id, '--stats-interval', '5'], {
    cwd: repoRoot,
    env: { ...process.env, PRESENCE_TOPIC_PREFIX: s.topics.prefix, PRESENCE_PARTITIONS: String(PARTITIONS), PRESENCE_DATABASE_URL: testDatabaseUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const m: Member = { id, child, log, out, lines: [] };
  members.push(m);
  const onData = (b: Buffer) => {
    out.write(b);
    for (const l of b.toString('utf8').split('\n')) if (l.trim()) m.lines.push(l);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  child.on('exit', (code, signal) => {
    m.exit = { code, signal };
    say(`${id} exited (code ${code}, signal ${signal})`);
  });
  // Running once it says so (tsx start-up, registry, database, Kafka connect).
  const deadline = Date.now() + 30_000;
  while (!m.lines.some((l) => l.includes('running against'))) {
    if (m.exit) throw new Error(`${id} exited while starting: ${m.lines.slice(-5).join(' | ')}`);
    if (Date.now() > deadline) throw new Error(`${id} did not start within 30 s (log ${log})`);
    await sleep(100);
  }
  say(`${id} started (pid ${child.pid}, log ${log})`);
  return m;
}

function waitExit(m: Member, ms: number): Promise<boolean> {
  if (m.exit) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    m.child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

async function stopMember(m: Member, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  m.expectedExit = true;
  const started = Date.now();
  m.child.kill(signal);
  const ended = await waitExit(m, 20_000);
  if (!ended) {
    say(`${m.id} did not stop within 20 s of ${signal}: SIGKILL`);
    m.child.kill('SIGKILL');
    await waitExit(m, 5000);
  }
  say(`${m.id} ${signal} → exited in ${Date.now() - started} ms`);
}

/**
 * The event manager keeps one store per partition NUMBER (the input topics are
 * co-partitioned), so partition p of signaling-events, subscriptions and
 * delivery-reports must belong to the same member. Ownership from the
 * members' own "assigned"/"revoked" log lines (incremental with cooperative
 * rebalancing, the whole set with eager).
 */
function coPartitioningViolations(): string[] {
  const owner = new Map<string, string>();
  for (const m of members) {
    if (m.exit) continue;
    const mine = new Set<string>();
    for (const l of m.lines) {
      const a = /^\S+ (assigned|revoked) (.*)$/.exec(l);
      if (!a) continue;
      const tps = a[2] === '(none)' ? [] : a[2]!.split(' ').map((x) => x.slice(s.topics.prefix.length));
      for (const tp of tps) {
        if (a[1] === 'assigned') mine.add(tp);
        else mine.delete(tp);
      }
    }
    for (const tp of mine) owner.set(tp, m.id);
  }
  const out: string[] = [];
  for (let p = 0; p < PARTITIONS; p++) {
    const who = ['signaling-events', 'subscriptions', 'delivery-reports'].map((t) => `${t}[${p}]→${owner.get(`${t}[${p}]`) ?? 'nobody'}`);
    if (new Set(who.map((w) => w.split('→')[1])).size > 1) out.push(`partition ${p}: ${who.join(', ')}`);
  }
  return out;
}

async function schemaExists(name: string): Promise<boolean> {
  const c = new pg.Client(testDatabaseUrl);
  await c.connect();
  try {
    const { rows } = await c.query('select 1 from pg_namespace where nspname = $1', [name]);
    return rows.length > 0;
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  rulesSchemaExisted = await schemaExists('presence');
  await applyIsolated(s);
  await serde.loadIds();
  producer = new RecordProducer(s.kafka.brokers, 'it-rebalance', 15_000);
  await producer.connect();
});

afterAll(async () => {
  for (const m of members) if (!m.exit) await stopMember(m, 'SIGTERM');
  for (const m of members) m.out.end();
  await producer?.close();
  await cleanupIsolated(s);
  if (!rulesSchemaExisted && (await schemaExists('presence'))) {
    const c = new pg.Client(testDatabaseUrl);
    await c.connect();
    await c.query('drop schema if exists presence cascade').finally(() => c.end());
  }
});

describe('event-manager group under rebalancing', () => {
  it('keeps every dialog’s NOTIFYs contiguous, complete and unduplicated while members join, leave and are killed', async () => {
    const t0 = Date.now();
    const at = (label: string) => say(`${label} at +${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const oracles = Array.from({ length: PRESENTITIES }, (_, i) => new Oracle(presentity(i), `sub-${i}`));
    for (let i = 0; i < PRESENTITIES; i++) await producer.send(topic('subscriptions'), presentity(i), serde.encode('subscriptions', subscription(i)));

    const em1 = await startMember('rb-em-1');
    at('em-1 running');
    // One member alone first: the 30 subscriptions' immediate NOTIFYs.
    const initial = await readTopic({
      brokers: s.kafka.brokers,
      topic: topic('notify-requests'),
      partitions: PARTITIONS,
      count: PRESENTITIES,
      timeoutMs: 30_000,
    });
    at(`${initial.length} initial NOTIFYs read`);

    // Traffic: round robin over the presentities, each event changing presence, times increasing.
    let sent = 0;
    let trafficOn = true;
    let trafficError: unknown;
    const steps = new Array<number>(PRESENTITIES).fill(0);
    const traffic = (async () => {
      while (trafficOn) {
        const i = sent % PRESENTITIES;
        const e = eventFor(i, steps[i]!, T + 1000 + sent * 100);
        await producer.send(topic('signaling-events'), presentity(i), serde.encode('signaling-events', e));
        steps[i]! += 1;
        oracles[i]!.event(e);
        sent++;
        // Rounds of one event per presentity, then a pause: node-rdkafka's consume(n) keeps
        // collecting while messages arrive less than its timeout (1 s) apart, so a steady
        // trickle would hold every batch until maxBatch (500) records had arrived.
        if (sent % PRESENTITIES === 0) await sleep(1200);
      }
    })().catch((err) => {
      trafficError = err;
    });

    await sleep(8000);
    const em2 = await startMember('rb-em-2');
    at(`em-2 running (${sent} events sent)`);
    await sleep(8000);
    await startMember('rb-em-3');
    at(`em-3 running (${sent} events sent)`);
    await sleep(10_000);
    at(`SIGTERM em-1 (${sent} events sent)`);
    await stopMember(em1, 'SIGTERM');
    await sleep(8000);
    at(`SIGKILL em-2 (${sent} events sent)`);
    await stopMember(em2, 'SIGKILL');
    const killedAt = Date.now();
    await sleep(10_000);
    await startMember('rb-em-4');
    at(`em-4 running (${sent} events sent)`);
    await sleep(12_000);
    trafficOn = false;
    await traffic;
    const split = coPartitioningViolations();
    for (const v of split) say(`SPLIT ${v}`);
    at(`traffic stopped: ${sent} events`);
    expect(trafficError).toBeUndefined();

    // Everything an uninterrupted owner would have sent. The killed member's open
    // transaction holds read_committed readers back until the broker aborts it
    // (transaction.timeout.ms 30 s + the broker's abort sweep), hence the long read.
    const expectedTotal = oracles.reduce((n, o) => n + o.causes.length, 0);
    const read = (count: number, timeoutMs: number, settleMs: number) =>
      readTopic({ brokers: s.kafka.brokers, topic: topic('notify-requests'), partitions: PARTITIONS, count, timeoutMs, settleMs });
    // On a shortfall, go on with what is there so the per-dialog report says what is missing.
    const records = await read(expectedTotal, 75_000, 4000).catch(async (err) => {
      say(`${(err as Error).message}; reading what is committed`);
      return read(0, 10_000, 3000);
    });
    at(`read ${records.length} NOTIFYs (expected ${expectedTotal}), ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
    const notifies: NotifyRequest[] = await Promise.all(records.map((r) => serde.decode('notify-requests', r.value!)));

    const byDialog = new Map<string, NotifyRequest[]>();
    for (const n of notifies) {
      const k = `${n.callId}/${n.remoteTag}`;
      if (!byDialog.has(k)) byDialog.set(k, []);
      byDialog.get(k)!.push(n);
    }
    expect(byDialog.size).toBe(PRESENTITIES);
    const problems: string[] = [];
    for (let i = 0; i < PRESENTITIES; i++) {
      const { callId, remoteTag } = dialogOf(i);
      const got = byDialog.get(`${callId}/${remoteTag}`) ?? [];
      const o = oracles[i]!;
      const versions = got.map((n) => n.version);
      const cseqs = got.map((n) => n.cseq);
      const causes = got.map((n) => n.causeEventId);
      const contiguous = versions.every((v, j) => v === j + 1);
      const cseqUp = cseqs.every((c, j) => j === 0 || c > cseqs[j - 1]!) && cseqs.every((c, j) => c === versions[j]);
      const sameCauses = JSON.stringify(causes) === JSON.stringify(o.causes);
      const last = got.at(-1);
      const lastOk = last?.body === o.lastBody && last.body!.includes('<basic>open</basic>') === (o.lastKind === 'updateLocation/result');
      if (!contiguous || !cseqUp || !sameCauses || !lastOk) {
        const dup = causes.filter((c, j) => causes.indexOf(c) !== j);
        const lost = o.causes.filter((c) => !causes.includes(c));
        problems.push(
          `${presentity(i)} partition? ${records.find((r) => r.key?.toString() === presentity(i))?.partition}: ${got.length} NOTIFYs, expected ${o.causes.length}; ` +
            `versions ${contiguous ? 'ok' : versions.join(',')}; cseq ${cseqUp ? 'ok' : cseqs.join(',')}; duplicated causes [${dup.join(',')}]; lost [${lost.join(',')}]; ` +
            `last ${lastOk ? 'ok' : `wrong (last event ${o.lastKind}, got cause ${last?.causeEventId})`}`,
        );
      }
      expect.soft(versions, `${presentity(i)} versions`).toEqual(Array.from({ length: o.causes.length }, (_, j) => j + 1));
      expect.soft(cseqs, `${presentity(i)} cseqs`).toEqual(versions);
      expect.soft(causes, `${presentity(i)} causes`).toEqual(o.causes);
      expect.soft(lastOk, `${presentity(i)} last document`).toBe(true);
    }
    for (const p of problems) say(`PROBLEM ${p}`);

    const dead = await readTopic({ brokers: s.kafka.brokers, topic: topic('dead-letters'), partitions: 3, count: 0, timeoutMs: 10_000, settleMs: 1500 });
    const deadDecoded = await Promise.all(dead.map((d) => serde.decode('dead-letters', d.value!)));
    const reasons = new Map<string, number>();
    const origins = new Map<string, string>();
    for (const d of deadDecoded) {
      const r = `${d.reason}: ${d.message.replace(/partition \d+/, 'partition N')} (first at ${d.origin})`;
      const k = r.replace(/ \(first at .*\)$/, '');
      if (!reasons.has(k)) reasons.set(k, 0);
      reasons.set(k, reasons.get(k)! + 1);
      origins.set(k, origins.get(k) ?? d.origin ?? '');
    }
    for (const [r, n] of reasons) say(`DEAD LETTERS ×${n}: ${r.slice(0, 300)} (first at ${origins.get(r)})`);
    expect.soft(split, 'each partition number of the three input topics owned by one member').toEqual([]);
    expect.soft(dead.length, 'dead letters').toBe(0);

    // Members the test did not stop must still be running (a fenced or crashed member exits).
    const unexpected = members.filter((m) => m.exit && !m.expectedExit).map((m) => `${m.id} ${JSON.stringify(m.exit)}: ${m.lines.slice(-3).join(' | ')}`);
    expect.soft(unexpected, 'members that exited on their own').toEqual([]);
    for (const m of members) {
      const aborted = m.lines.filter((l) => /aborted|failed|error/i.test(l) && !/last error/.test(l));
      say(
        `${m.id}: ${m.lines.filter((l) => /^\S+ (assigned|revoked)/.test(l)).length} rebalance callbacks, ${aborted.length} abort/error lines; last stats: ${m.lines.filter((l) => l.includes('partitions ')).at(-1) ?? '-'}`,
      );
    }
    at(`done: ${sent} events, ${notifies.length} NOTIFYs over ${PRESENTITIES} dialogs, ${problems.length} dialogs with problems`);
  }, 200_000);
});
