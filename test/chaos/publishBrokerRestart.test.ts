// Chaos: the broker dies (SIGKILL) under a steady stream of PUBLISHes through
// two SIP front ends and comes back on the same log (issue 12, "a broker restart
// during PUBLISH traffic: every PUBLISH answered truthfully"). The front end
// answers an initial PUBLISH 200 once Kafka stored it, with the tag the owner
// will derive from the request id, and a conditional one from the owner's
// answer; what it cannot vouch for it answers 500 (or 503 while it knows Kafka
// is down), with Retry-After. The UACs retry every 500/503 (same Call-ID, CSeq,
// From-tag; new branch), each retry to the other front end. Afterwards, from the
// owning event manager's store and its committed changelog states:
//  1. every 200 was true: its SIP-ETag was held with the body it answered for
//     (changelog), and is held at the end unless its own chain replaced it (store);
//  2. no publication is held under a tag no UAC was told of;
//  3. no publication twice (a retry applied as a second one, an orphan);
//  4. every attempt got a final answer (200, 412 only for a deliberately stale
//     tag, 500/503 with Retry-After), never silence within Timer F.
// Bounded: 20 s of traffic, at most 60 s more for the retries to settle and 60 s
// for the owner to catch up; about 70 s in all when the broker restarts in ~20 s.
import { createHash } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, describe, expect, it } from 'vitest';
import type { Settings } from '../../config/settings.ts';
import { directoryResolver, startSipFrontEnd, type SipFrontEnd } from '../../front-end/sipFrontEnd.ts';
import { applyTopology } from '../../kafka/applyTopology.ts';
import { totalLag } from '../../kafka/groupLag.ts';
import { partitionOf } from '../../kafka/partitioner.ts';
import { parseSipMessage, type SipMessage } from '../../protocols/decode/sip/index.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { readAll } from '../../cli/demo/readCommitted.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';
import { privateBroker } from '../support/privateBroker.ts';
import { pidfBody } from '../support/signalingEvents.ts';
import { supervisedEventManager, type SupervisedEventManager } from '../support/supervisedEventManager.ts';
import { eventually, sleep } from '../support/wait.ts';

const HOST = '127.0.0.1';
const PARTITIONS = 4;
const TRAFFIC_MS = 20_000;
const KILL_AFTER_MS = 5_000;
const DOWN_MS = 5_000;
/** The UACs wait this long before retrying a 500/503 (shorter than the Retry-After the front end names, to keep the test brief). */
const RETRY_MS = 1_000;
/** New requests stop at TRAFFIC_MS; retries of those in flight until this much later. */
const SETTLE_MS = 60_000;
/** Presentities publishing once each time (no refreshes) and the rate of those initial PUBLISHes. */
const ONE_SHOT_PRESENTITIES = 60;
const ONE_SHOT_EVERY_MS = 100;
/** Presentities with a refresh/modify chain (SIP-If-Match), one UAC each. */
const CHAINS = 12;
const CHAIN_PAUSE_MS = 250;
/** The front end gives the owner this long to answer a conditional PUBLISH before 500. */
const PUBLISH_TIMEOUT_MS = 2_000;
/** RFC 3261 §17.1.2: T1, T2 and Timer F of a non-INVITE client transaction over UDP. */
const T1 = 500;
const T2 = 4_000;
const TIMER_F = 64 * T1;

const broker = privateBroker('publish-restart', 19_392);
const chaos: Settings = {
  ...broker.settings,
  database: { ...broker.settings.database, url: testDatabaseUrl },
  topics: isolatedSettings('publish-restart', PARTITIONS).topics,
};
const rulesSchema = `it_pubchaos_rules_${process.pid}`;
const run = `${Date.now().toString(36)}${process.pid}`;

afterAll(async () => {
  await cleanupIsolated(chaos);
  await broker.remove();
  await dropSchema(rulesSchema);
}, 60_000);

type Kind = 'initial' | 'refresh' | 'modify' | 'stale';

/** One PUBLISH as its UAC sees it: every attempt (the first and each retry) and the outcome. */
interface Publish {
  readonly kind: Kind;
  readonly uri: string;
  readonly callId: string;
  readonly cseq: number;
  readonly ifMatch?: string;
  /** The note of the body it carries (none: a refresh). */
  readonly note?: string;
  /** Each attempt: its answer, the front end it went to, when it was sent and how long its answer took. */
  readonly attempts: { status: number | 'silent'; retryAfter?: number; fe: number; at: number; ms: number }[];
  final?: number;
  etag?: string;
}

/**
 * UDP user agents on one socket: client transactions with retransmissions (Timer E) and Timer F,
 * matched by branch. A PUBLISH goes to the front ends in turn and each retry to the next one, as a
 * UAC behind a DNS SRV set or a dispatcher does, so the owner must recognise a retry whichever front end it reaches.
 */
async function userAgents(frontEnds: readonly SipFrontEnd[]) {
  const socket: Socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, HOST, r));
  const port = socket.address().port;
  const waiting = new Map<string, (m: SipMessage) => void>();
  socket.on('message', (b) => {
    const m = parseSipMessage(b);
    if (m.status !== undefined && m.status >= 200) waiting.get(m.topVia?.branch ?? '')?.(m);
  });
  let branches = 0;
  const transaction = (fe: SipFrontEnd, text: (branch: string) => string) => {
    const branch = `z9hG4bK${run}-${++branches}`;
    const packet = text(branch);
    return new Promise<SipMessage | undefined>((resolve) => {
      let interval = T1;
      let retransmit: NodeJS.Timeout;
      const send = () => {
        socket.send(packet, fe.port, HOST);
        retransmit = setTimeout(send, interval);
        interval = Math.min(2 * interval, T2);
      };
      const timerF = setTimeout(() => finish(undefined), TIMER_F);
      const finish = (m: SipMessage | undefined) => {
        clearTimeout(retransmit);
        clearTimeout(timerF);
        waiting.delete(branch);
        resolve(m);
      };
      waiting.set(branch, finish);
      send();
    });
  };
  const all: Publish[] = [];
  /** Sends it, retrying after RETRY_MS while it is answered 500/503 and the settle deadline is not past. */
  const publish = async (p: Omit<Publish, 'attempts'>, fromTag: string, settleBy: number): Promise<Publish> => {
    const r: Publish = { ...p, attempts: [] };
    all.push(r);
    // Spread first attempts over the front ends by request (a global counter would send every one-shot to the same one).
    const first = createHash('sha256').update(`${p.callId} ${p.cseq}`).digest()[0]!;
    const body = p.note === undefined ? '' : pidfBody(p.note).replace('entity="sip:telephone2@172.16.98.101"', `entity="${p.uri}"`);
    for (;;) {
      const fe = (first + r.attempts.length) % frontEnds.length;
      const at = Date.now();
      const m = await transaction(
        frontEnds[fe]!,
        (branch) =>
          `PUBLISH ${p.uri} SIP/2.0\r\nVia: SIP/2.0/UDP ${HOST}:${port};branch=${branch}\r\nMax-Forwards: 70\r\n` +
          `From: <${p.uri}>;tag=${fromTag}\r\nTo: <${p.uri}>\r\nCall-ID: ${p.callId}\r\nCSeq: ${p.cseq} PUBLISH\r\nEvent: presence\r\nExpires: 3600\r\n` +
          (p.ifMatch ? `SIP-If-Match: ${p.ifMatch}\r\n` : '') +
          (body ? 'Content-Type: application/pidf+xml\r\n' : '') +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      const sent = { fe, at, ms: Date.now() - at };
      r.attempts.push(m ? { status: m.status!, ...(m.retryAfter !== undefined ? { retryAfter: m.retryAfter } : {}), ...sent } : { status: 'silent', ...sent });
      if (!m) return r;
      if ((m.status === 500 || m.status === 503) && Date.now() + RETRY_MS < settleBy) {
        await sleep(RETRY_MS);
        continue;
      }
      r.final = m.status!;
      if (m.status === 200) r.etag = m.sipETag;
      return r;
    }
  };
  return { all, publish, close: () => new Promise<void>((r) => socket.close(() => r())) };
}

/** A refresh/modify chain for one presentity: an initial PUBLISH, then conditional ones on the tag last received, and now and then one on a tag already replaced (must be 412). */
async function chain(ua: Awaited<ReturnType<typeof userAgents>>, c: number, until: number, settleBy: number) {
  const uri = `tel:+35191300${String(c).padStart(4, '0')}`;
  const callId = `chain-${c}-${run}`;
  const fromTag = `c${c}`;
  let cseq = 1;
  let note = `chain ${c} step 0`;
  const first = await ua.publish({ kind: 'initial', uri, callId, cseq, note }, fromTag, settleBy);
  let tag = first.etag;
  /** Every tag this UAC was given, with the note of the body it stands for (a refresh keeps the last one). */
  const answered = tag === undefined ? [] : [{ etag: tag, note }];
  let previous: string | undefined;
  for (let step = 1; tag !== undefined && Date.now() < until; step++) {
    await sleep(CHAIN_PAUSE_MS);
    cseq++;
    if (step % 5 === 0 && previous !== undefined) {
      await ua.publish({ kind: 'stale', uri, callId, cseq, ifMatch: previous, note: `chain ${c} stale ${step}` }, fromTag, settleBy);
      continue;
    }
    const modify = step % 2 === 0;
    const r = await ua.publish(
      { kind: modify ? 'modify' : 'refresh', uri, callId, cseq, ifMatch: tag, ...(modify ? { note: `chain ${c} step ${step}` } : {}) },
      fromTag,
      settleBy,
    );
    if (r.final !== 200) break;
    if (modify) note = `chain ${c} step ${step}`;
    previous = tag;
    tag = r.etag;
    if (tag !== undefined) answered.push({ etag: tag, note });
  }
  return { uri, tag, note, answered };
}

/** Initial PUBLISHes at a steady rate, each from a UAC of its own (new Call-ID), round-robin over the one-shot presentities. */
async function oneShots(ua: Awaited<ReturnType<typeof userAgents>>, until: number, settleBy: number) {
  const sent: Promise<Publish>[] = [];
  for (let i = 0; Date.now() < until; i++) {
    const uri = `tel:+35191200${String(i % ONE_SHOT_PRESENTITIES).padStart(4, '0')}`;
    sent.push(ua.publish({ kind: 'initial', uri, callId: `one-${i}-${run}`, cseq: 1, note: `one-shot ${i}` }, `o${i}`, settleBy));
    await sleep(ONE_SHOT_EVERY_MS);
  }
  return Promise.all(sent);
}

/** The event manager has committed all of its input (so its store holds every PUBLISH stored on Kafka). */
async function caughtUp(em: SupervisedEventManager) {
  await eventually(
    () => `the event manager committing its input (restarts: ${em.restarts.join('; ') || 'none'}); its log:\n${em.lines.slice(-40).join('\n')}`,
    async () => {
      const m = em.current();
      if (!m) return undefined;
      return (await totalLag(chaos.kafka.brokers, m.processor.groupId, [...m.processor.inputTopics]).catch(() => -1)) === 0 ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
}

describe('broker restart during PUBLISH traffic', () => {
  it('answers every PUBLISH truthfully: each 200 is applied under its SIP-ETag, no tag nobody was told of, no orphan, no silence', async () => {
    await broker.start();
    await applyTopology(chaos);
    const serde = new RecordSerde(chaos.registry.url, chaos.topics.prefix);
    await serde.loadIds();
    const em = supervisedEventManager(chaos, { rulesSchema });
    const feLines: string[] = [];
    const fes: SipFrontEnd[] = [];
    let ua: Awaited<ReturnType<typeof userAgents>> | undefined;
    try {
      await eventually('the event manager started', () => em.current(), { timeoutMs: 60_000 });
      for (const n of [1, 2])
        fes.push(
          await startSipFrontEnd(chaos, {
            host: HOST,
            port: 0,
            frontEndId: `fe${n}-pubchaos-${run}`,
            publishTimeoutMs: PUBLISH_TIMEOUT_MS,
            policy: { minExpires: 60, maxExpires: 7200, defaultExpires: 3600 },
            log: (l) => feLines.push(`${new Date().toISOString().slice(11, 23)} fe${n}: ${l}`),
          }),
        );
      ua = await userAgents(fes);
      const agents = ua;
      // Warm-up: the owner answers conditional PUBLISHes before the clock starts (its partitions assigned).
      const warm = await agents.publish(
        { kind: 'initial', uri: 'tel:+351913999999', callId: `warm-${run}`, cseq: 1, note: 'warm-up' },
        'w',
        Date.now() + 60_000,
      );
      expect(warm.final).toBe(200);
      const warmRefresh = await agents.publish(
        { kind: 'refresh', uri: 'tel:+351913999999', callId: `warm-${run}`, cseq: 2, ifMatch: warm.etag! },
        'w',
        Date.now() + 60_000,
      );
      expect(warmRefresh.final).toBe(200);
      const warmCount = agents.all.length;

      const started = Date.now();
      const until = started + TRAFFIC_MS;
      const settleBy = until + SETTLE_MS;
      let killedAt = 0;
      let answeringAt = 0;
      const [chains, shots] = await Promise.all([
        Promise.all(Array.from({ length: CHAINS }, (_, c) => chain(agents, c, until, settleBy))),
        oneShots(agents, until, settleBy),
        (async () => {
          await sleep(KILL_AFTER_MS);
          broker.kill();
          killedAt = Date.now();
          await sleep(DOWN_MS);
          await broker.start();
          answeringAt = Date.now();
        })(),
      ]);
      const settledAt = Date.now();
      expect(killedAt).toBeGreaterThan(0);
      expect(answeringAt).toBeGreaterThan(0);
      await caughtUp(em);

      const publishes = agents.all.slice(warmCount);
      const attempts = publishes.flatMap((p) => p.attempts);
      const byStatus = (s: number | 'silent') => attempts.filter((a) => a.status === s).length;
      const byKind = (k: Kind) => publishes.filter((p) => p.kind === k).length;
      const retried = publishes.filter((p) => p.attempts.length > 1).length;
      console.log(
        `PUBLISH through a broker restart: broker killed ${killedAt - started} ms in, answering again ${answeringAt - killedAt} ms after the kill; ` +
          `traffic settled ${settledAt - started} ms after its start. ` +
          `${publishes.length} PUBLISHes (initial ${byKind('initial')}, refresh ${byKind('refresh')}, modify ${byKind('modify')}, stale-tag ${byKind('stale')}), ` +
          `${attempts.length} attempts (${retried} PUBLISHes retried): 200 ${byStatus(200)}, 412 ${byStatus(412)}, 500 ${byStatus(500)}, 503 ${byStatus(503)}, ` +
          `other ${attempts.filter((a) => ![200, 412, 500, 503, 'silent'].includes(a.status)).length}, silent ${byStatus('silent')}; ` +
          `event manager restarts by the supervisor: ${em.restarts.length}${em.restarts.length ? ` (${em.restarts.join('; ')})` : ''}`,
      );
      for (const fe of fes) console.log(`front end ${fe.frontEndId}: ${fe.statsLine()}`);
      // Slow answers (not wrong ones): when they were sent, relative to the kill, and how long they took.
      for (const [n] of fes.entries()) {
        const slow = attempts.filter((a) => a.fe === n && a.ms > 1000);
        const span = (xs: number[]) => (xs.length ? `${Math.min(...xs)}..${Math.max(...xs)}` : '-');
        console.log(
          `front end ${n + 1}: ${slow.length} answers slower than 1 s (${slow.filter((a) => a.status === 200).length} of them 200), ` +
            `sent ${span(slow.map((a) => a.at - killedAt))} ms after the kill, taking ${span(slow.map((a) => a.ms))} ms`,
        );
      }

      // 4. Never silence; every 500/503 names Retry-After; every PUBLISH ended in 200, or 412 for a stale tag (and only then).
      expect(byStatus('silent')).toBe(0);
      expect(attempts.filter((a) => ![200, 412, 500, 503].includes(a.status as number))).toEqual([]);
      expect(attempts.filter((a) => (a.status === 500 || a.status === 503) && a.retryAfter === undefined)).toEqual([]);
      const unsettled = publishes.filter((p) => (p.kind === 'stale' ? p.final !== 412 : p.final !== 200));
      expect(unsettled.map((p) => `${p.kind} ${p.callId} CSeq ${p.cseq}: ${p.attempts.map((a) => a.status).join(',')}`)).toEqual([]);
      expect(byStatus(500) + byStatus(503)).toBeGreaterThan(0);

      // What each presentity must hold: every one-shot's tag with its note, each chain's last tag with its last body.
      const expected = new Map<string, Map<string, string>>();
      const expect1 = (uri: string, etag: string, note: string) => expected.set(uri, (expected.get(uri) ?? new Map<string, string>()).set(etag, note));
      for (const p of shots) expect1(p.uri, p.etag!, p.note!);
      for (const c of chains) expect1(c.uri, c.tag!, c.note);
      const told = new Set(publishes.flatMap((p) => (p.etag ? [p.etag] : [])));
      const resolve = directoryResolver(chaos);
      const store = em.current()!.processor.ctx;
      const wrong: string[] = [];
      const unknownTags: string[] = [];
      const twice: string[] = [];
      let held = 0;
      for (const [uri, tags] of expected) {
        const key = (await resolve(uri))!;
        const pubs = store.store(partitionOf(key, PARTITIONS)).get(key)?.presence.publications ?? [];
        held += pubs.length;
        // 1. Applied under exactly the answered tag, with the body that request carried.
        for (const [etag, note] of tags) {
          const p = pubs.find((x) => x.etag === etag);
          if (!p?.pidf.includes(`<note>${note}</note>`)) wrong.push(`${uri}: ${etag} (${note}) ${p ? 'holds another body' : 'not held'}`);
        }
        // 2. Nothing under a tag no UAC was told of (all 500s were retried to a final answer).
        for (const p of pubs) if (!told.has(p.etag) || !tags.has(p.etag)) unknownTags.push(`${uri}: ${p.etag} ${/<note>([^<]*)</.exec(p.pidf)?.[1]}`);
        // 3. No body twice (a retry applied as a second publication).
        const notes = pubs.map((p) => /<note>([^<]*)</.exec(p.pidf)?.[1]);
        for (const n of new Set(notes)) if (notes.filter((x) => x === n).length > 1) twice.push(`${uri}: "${n}"`);
      }
      // 1, for every 200 (not only the last of a chain): some committed state of the owner held that tag with that body.
      const changelog = await readAll(chaos, serde, 'event-manager-presence-store-changelog');
      const committed = new Set(changelog.flatMap((st) => st.publications.map((p) => `${p.etag} ${/<note>([^<]*)</.exec(p.pidf)?.[1]}`)));
      const answered = [...shots.map((p) => ({ etag: p.etag!, note: p.note! })), ...chains.flatMap((c) => c.answered)];
      expect(answered.filter((a) => !committed.has(`${a.etag} ${a.note}`))).toEqual([]);
      // Retries that reached the owner as a second copy of a request it already had (a 500 whose request was stored): recognised, not applied twice.
      const requests = await readAll(chaos, serde, 'publish-requests');
      const copies = new Map<string, number>();
      for (const r of requests) copies.set(r.requestId, (copies.get(r.requestId) ?? 0) + 1);
      console.log(
        `held: ${held} publications for ${expected.size} presentities (${told.size} tags told to the UACs, ${answered.length} checked in ${changelog.length} changelog states); ` +
          `publish-requests: ${requests.length} records, ${[...copies.values()].filter((n) => n > 1).length} requests stored more than once`,
      );
      expect(wrong).toEqual([]);
      expect(unknownTags).toEqual([]);
      expect(twice).toEqual([]);
      expect(held).toBe([...expected.values()].reduce((n, t) => n + t.size, 0));
    } finally {
      await ua?.close();
      for (const fe of fes) await fe.stop();
      await em.stop();
      if (feLines.length) console.log(`front end log (last 20):\n${feLines.slice(-20).join('\n')}`);
    }
  }, 180_000);
});
