// PUBLISH through a planned scale-out and scale-in (issue 12, "a graceful
// scale-out answers PUBLISHes 500"): publishers keep refreshing their
// publications (conditional PUBLISHes, answered by the owning event manager)
// while a second event manager joins the group and later leaves it. Every
// PUBLISH must be answered as the owner decided — 200 with the next entity tag —
// never 500 because its partition was between owners: the front end holds a
// conditional PUBLISH for longer than a planned move takes (its default
// publish timeout), and a request taken by the old owner but not committed is
// re-processed by the new one, which answers it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { startSipFrontEnd, type SipFrontEnd } from '../../front-end/sipFrontEnd.ts';
import { partitionOf } from '../../kafka/partitioner.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';
import { pidfBody } from '../support/signalingEvents.ts';
import { openSipBranchClient, type SipBranchClient } from '../support/sipUdpClient.ts';
import { eventually, sleep } from '../support/wait.ts';

const HOST = '127.0.0.1';
const PARTITIONS = 4;
const PRESENTITIES = 12;
const base = isolatedSettings('pubscale', PARTITIONS);
const s = { ...base, database: { ...base.database, url: testDatabaseUrl }, eventManager: { ...base.eventManager, timerClock: 'wall' as const } };
const rulesSchema = `it_pubscale_rules_${process.pid}`;
const run = `${Date.now().toString(36)}${process.pid}`;

interface Publisher {
  readonly uri: string;
  readonly key: string;
  etag: string;
  cseq: number;
}
interface Outcome {
  readonly status: number;
  readonly ms: number;
  readonly at: number;
}

let fe: SipFrontEnd;
const members: EventManager[] = [];
let ua: SipBranchClient;
const publishers: Publisher[] = Array.from({ length: PRESENTITIES }, (_, i) => {
  const n = `+35191123${String(i).padStart(4, '0')}`;
  return { uri: `tel:${n}`, key: `msisdn:${n}`, etag: '', cseq: 0 };
});
let branches = 0;

/** One PUBLISH of `p` (initial without an entity tag, else a refresh of its publication with a new note). */
async function publish(p: Publisher): Promise<Outcome> {
  const branch = `z9hG4bK${run}-${++branches}`;
  const body = pidfBody(`note ${p.cseq + 1}`).replace('entity="sip:telephone2@172.16.98.101"', `entity="${p.uri}"`);
  const text =
    `PUBLISH ${p.uri} SIP/2.0\r\nVia: SIP/2.0/UDP ${HOST}:${ua.port};branch=${branch}\r\nMax-Forwards: 70\r\n` +
    `From: <${p.uri}>;tag=pub${run}\r\nTo: <${p.uri}>\r\nCall-ID: pub-${p.key}-${run}\r\nCSeq: ${++p.cseq} PUBLISH\r\n` +
    `Event: presence\r\nExpires: 600\r\n${p.etag ? `SIP-If-Match: ${p.etag}\r\n` : ''}Content-Type: application/pidf+xml\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  const t0 = Date.now();
  // Timer F: a UA gives up on a non-INVITE request after 32 s.
  const m = await ua.request(text, branch, fe.port, 32_000);
  if (m.status === 200) p.etag = m.sipETag ?? '';
  return { status: m.status ?? 0, ms: Date.now() - t0, at: t0 };
}

/** Each publisher refreshes in a loop (one PUBLISH in flight each) until `stop()`. */
function publishLoop(): { outcomes: Outcome[]; stop: () => Promise<void> } {
  const outcomes: Outcome[] = [];
  let running = true;
  const loops = publishers.map(async (p) => {
    while (running) {
      outcomes.push(await publish(p));
      await sleep(250);
    }
  });
  return {
    outcomes,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function member(id: string): Promise<EventManager> {
  const em = await startEventManager(s, { memberId: id, rulesSchema });
  members.push(em);
  return em;
}

/** Partitions `em` processes now (assigned, restored, not split). */
const ownedBy = (em: EventManager) => em.processor.health().live.length;

beforeAll(async () => {
  await applyIsolated(s);
  await member('em-pubscale-a');
  // The front end as `run sip-front` starts it: the publish timeout is the setting's default.
  fe = await startSipFrontEnd(s, { host: HOST, port: 0, frontEndId: `fe-pubscale-${run}`, policy: { minExpires: 60, maxExpires: 7200, defaultExpires: 3600 } });
  ua = await openSipBranchClient(HOST);
  expect(new Set(publishers.map((p) => partitionOf(p.key, PARTITIONS))).size).toBe(PARTITIONS);
  for (const p of publishers) expect((await publish(p)).status).toBe(200);
}, 120_000);

afterAll(async () => {
  await ua?.close();
  await fe?.stop();
  for (const em of members) await em.stop().catch(() => {});
  await cleanupIsolated(s);
  await dropSchema(rulesSchema);
}, 60_000);

describe('PUBLISH while event managers join and leave (planned moves)', () => {
  it('answers every conditional PUBLISH from its owner (200, the tag chain unbroken) through a scale-out and a scale-in: none 500, none 412', async () => {
    expect(s.frontEnd.publishTimeoutMs).toBe(loadSettings({}).frontEnd.publishTimeoutMs);
    const [a] = members;
    const traffic = publishLoop();
    await sleep(2000);
    const b = await member('em-pubscale-b');
    // Scale-out: b takes partitions from a (a revokes between batches, b restores them).
    await eventually(
      () => `b owning partitions (a ${ownedBy(a!)}, b ${ownedBy(b)})`,
      () => ownedBy(b) > 0 && ownedBy(a!) + ownedBy(b) === PARTITIONS,
      { timeoutMs: 60_000 },
    );
    await sleep(4000);
    // Scale-in: b leaves cleanly; a takes its partitions back.
    await b.stop();
    await eventually(
      () => `a owning every partition again (a ${ownedBy(a!)})`,
      () => ownedBy(a!) === PARTITIONS,
      { timeoutMs: 60_000 },
    );
    await sleep(4000);
    await traffic.stop();
    const byStatus = new Map<number, number>();
    for (const o of traffic.outcomes) byStatus.set(o.status, (byStatus.get(o.status) ?? 0) + 1);
    const slowest = Math.max(...traffic.outcomes.map((o) => o.ms));
    console.log(
      `publishScaleOut: ${traffic.outcomes.length} PUBLISHes through a scale-out and a scale-in, answers ${JSON.stringify(Object.fromEntries(byStatus))}, slowest ${slowest} ms (publish timeout ${s.frontEnd.publishTimeoutMs} ms)`,
    );
    expect(traffic.outcomes.length).toBeGreaterThan(PRESENTITIES * 10);
    expect(Object.fromEntries(byStatus)).toEqual({ 200: traffic.outcomes.length });
  });
});
