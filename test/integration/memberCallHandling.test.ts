// The SIP redirect server inside the owning event manager (issue 16.5: "from
// the owning event manager's store in milliseconds"): MemberDecisions decides
// the calls to the keys the member owns in-process — here no member API runs at
// all, so no HTTP hop can be involved — against live state from signaling
// events and profiles in PostgreSQL: 302 to the registered contact, 302 to the
// transfer number, 603 for the denied caller, 486 once the callee is in an
// answered call, 480 for a key presence knows nothing of. Then 300 INVITEs one
// after another, timed INVITE → final answer on the UA's side, beside the same
// through the member API (OwnerDecisions), for the comparison the report states.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directoryResolver } from '../../front-end/sipFrontEnd.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import type { SignalingEvent } from '../../schemas/generated/records.ts';
import { CallHandlingServer } from '../../services/call-handling/callHandlingServer.ts';
import { OwnerDecisions } from '../../services/call-handling/ownerDecisions.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { startMemberApi, type MemberApi } from '../../streams/event-manager/introspection/memberApi.ts';
import { MemberDecisions } from '../../streams/event-manager/introspection/memberDecisions.ts';
import type { UserProfiles } from '../../subscriber/availability/availabilityProfile.ts';
import { oneModeProfile, storeProfiles } from '../support/availabilityProfiles.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { isupEvent, mapEvent, sipResponse } from '../support/signalingEvents.ts';
import { openSipUdpClient, type SipUdpClient } from '../support/sipUdpClient.ts';
import { eventually } from '../support/wait.ts';

const HOST = '127.0.0.1';
const SIP_PORT = 27220;
const SIP_PORT_HTTP = 27221;
const API_PORT = 27222;
const ALICE = 'msisdn:+351910000151';
const BRUNO = 'msisdn:+351910000152';
const CARLA = 'msisdn:+351910000153';
const NOBODY = 'msisdn:+351910000159';
const SPAMMER = 'sip:spam@junk.example';
const ALICE_CONTACT = 'sip:alice@10.0.0.9:5060';

const profile = (state: Parameters<typeof oneModeProfile>[0]): UserProfiles => oneModeProfile(state, { denied: [SPAMMER] });

const base = isolatedSettings('callh-member-decisions', 2);
const s = { ...base, database: { ...base.database, url: testDatabaseUrl } };
const rulesSchema = `it_callh_member_decisions_${process.pid}`;
const cleanups: Array<() => Promise<unknown>> = [];
let em: EventManager;
let decisions: MemberDecisions;
let redirect: CallHandlingServer;
let ua: SipUdpClient;
let producer: RecordProducer;
let serde: RecordSerde;
let n = 0;

async function signal(events: SignalingEvent[]): Promise<void> {
  const before = em.stats.signals;
  for (const e of events) await producer.send(topicName(s.topics.prefix, 'signaling-events'), e.subscriber, serde.encode('signaling-events', e));
  await eventually('the events applied', () => em.stats.signals >= before + events.length, { timeoutMs: 30_000 });
}

/** One INVITE over UDP; resolves with the final answer (the server sends no 100 Trying). */
async function invite(port: number, callee: string, from = 'sip:friend@example.com') {
  const branch = `z9hG4bK-mch-${++n}`;
  const text = [
    `INVITE tel:${callee.slice('msisdn:'.length)} SIP/2.0`,
    `Via: SIP/2.0/UDP ${HOST}:${ua.port};branch=${branch}`,
    'Max-Forwards: 70',
    `From: <${from}>;tag=f${n}`,
    `To: <tel:${callee.slice('msisdn:'.length)}>`,
    `Call-ID: mch-${n}@test`,
    'CSeq: 1 INVITE',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  ua.socket.send(Buffer.from(text), port, HOST);
  return ua.next(3000);
}

beforeAll(async () => {
  await applyIsolated(s);
  cleanups.push(
    () => cleanupIsolated(s),
    () => dropSchema(rulesSchema),
  );
  producer = new RecordProducer(s.kafka.brokers, 'it-callh-member-decisions', 15_000);
  await producer.connect();
  cleanups.push(() => producer.close());
  serde = new RecordSerde(s.registry.url, s.topics.prefix);
  await serde.loadIds();
  await storeProfiles(s.database.url, rulesSchema, {
    [ALICE]: profile({ kind: 'available' }),
    [BRUNO]: profile({ kind: 'transfer', to: { number: '+33123456789' } }),
  });

  em = await startEventManager(s, { memberId: 'em-callh-md', rulesSchema });
  cleanups.push(() => em.stop());
  await eventually('both partitions restored', () => em.processor.ctx.partitions().length === 2, { timeoutMs: 60_000 });
  decisions = new MemberDecisions(s, 'em-callh-md', em);
  redirect = await CallHandlingServer.start({ host: HOST, port: SIP_PORT, owners: decisions, resolveKey: directoryResolver(s) });
  cleanups.push(() => redirect.stop());
  ua = await openSipUdpClient();
  cleanups.push(() => ua.close());

  const now = Date.now();
  const attach = (key: string) => [
    mapEvent(key, 'updateLocation', 'invoke', now - 3000, { vlrNumber: '351910999001', mscNumber: '351910999001', opc: 100, dpc: 200 }),
    mapEvent(key, 'updateLocation', 'result', now - 2900, { opc: 200, dpc: 100 }),
  ];
  await signal([
    ...attach(ALICE),
    sipResponse(ALICE, 'REGISTER', 200, now - 2800, { callId: 'reg-alice', contacts: [`${ALICE_CONTACT};expires=3600`] }),
    ...attach(BRUNO),
    ...attach(CARLA),
  ]);
}, 180_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe('call handling decided in the owning member, without an HTTP hop', () => {
  it('302 to the contact, 302 to the transfer number, 603 denied, 480 unknown, 486 in a call', async () => {
    const accept = await invite(SIP_PORT, ALICE);
    expect(accept.status).toBe(302);
    expect(accept.headers.getAll('contact')).toEqual([`<${ALICE_CONTACT}>`]);
    const forward = await invite(SIP_PORT, BRUNO);
    expect(forward.status).toBe(302);
    expect(forward.headers.getAll('contact')).toEqual(['<tel:+33123456789>']);
    expect((await invite(SIP_PORT, ALICE, SPAMMER)).status).toBe(603);
    expect((await invite(SIP_PORT, NOBODY)).status).toBe(480);

    // Carla answers an ISUP call: busy, decided from the store the call just changed.
    const t = Date.now();
    await signal([
      isupEvent(CARLA, 'IAM', t - 1000, { cic: 41, opc: 100, dpc: 200, role: 'called', calling: '351210000001' }),
      isupEvent(CARLA, 'ANM', t - 500, { cic: 41, opc: 200, dpc: 100, role: 'called' }),
    ]);
    expect((await invite(SIP_PORT, CARLA)).status).toBe(486);
    expect(decisions.counts).toEqual({ local: 5, elsewhere: 0 });
  });

  it('timed: INVITE → answer in-process and through the member API, one after another', async () => {
    // The same decisions through the owner's member API, for comparison.
    const api: MemberApi = await startMemberApi(s, { memberId: 'em-callh-md', port: API_PORT, host: HOST });
    api.serve(em);
    cleanups.push(() => api.close());
    const owners = new OwnerDecisions({ ownerOfKey: () => ({ memberId: 'em-callh-md', httpUrl: api.url }) as never }, { timeoutMs: 2000 });
    const viaHttp = await CallHandlingServer.start({ host: HOST, port: SIP_PORT_HTTP, owners, resolveKey: directoryResolver(s) });
    cleanups.push(async () => {
      await viaHttp.stop();
      owners.close();
    });
    const timed = async (port: number) => {
      const ms: number[] = [];
      for (let i = 0; i < 300; i++) {
        const t0 = performance.now();
        expect((await invite(port, i % 2 ? ALICE : BRUNO)).status).toBe(302);
        ms.push(performance.now() - t0);
      }
      ms.sort((a, b) => a - b);
      const q = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]!.toFixed(2);
      return { p50: q(0.5), p99: q(0.99), max: q(1) };
    };
    for (const port of [SIP_PORT, SIP_PORT_HTTP]) await timed(port); // warm-up
    const local = await timed(SIP_PORT);
    const http = await timed(SIP_PORT_HTTP);
    process.stderr.write(`[member-decisions] INVITE → answer ms, in-process ${JSON.stringify(local)}, through the member API ${JSON.stringify(http)}\n`);
    // The tail is this shared 2-core machine's scheduling (the member, both servers and the UA share one process);
    // the median is the hop itself.
    expect(Number(local.p50)).toBeLessThan(Number(http.p50));
  }, 120_000);
});
