// Call-handling decisions against live state (issue 16 part 5): an event
// manager owns the callees, signaling events make one registered and then busy
// (an ISUP call answered), its profile names a boss (allowed) and a spammer
// (denied), another callee's mode transfers to a number. The owner's member API
// answers GET /subscribers/{key}/call-handling from its store, and the SIP
// redirect server (found through the members' reports, as `presence run
// call-handling` does) answers SIPp's INVITEs 302 Contact / 486 / 603, the
// urgent call of the boss put through, bad input refused. Then a real call
// replayed from a capture through the replay tap: answered, its called party
// is busy (486); released, it no longer is.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemberReportsView } from '../../coordinator/memberReportsReader.ts';
import { directoryResolver } from '../../front-end/sipFrontEnd.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { BearerTokens, newToken } from '../../protocols/http/bearerTokens.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import type { SignalingEvent } from '../../schemas/generated/records.ts';
import { CallHandlingServer } from '../../services/call-handling/callHandlingServer.ts';
import { TrustedProxies } from '../../protocols/sip/transport/trustedProxies.ts';
import { OwnerDecisions } from '../../services/call-handling/ownerDecisions.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { startMemberApi, type MemberApi } from '../../streams/event-manager/introspection/memberApi.ts';
import type { UserProfiles } from '../../subscriber/availability/availabilityProfile.ts';
import { sippAvailable, startSipp } from '../../tools/sipp/sipp.ts';
import { scenarioXml } from '../../tools/sipp/scenarios.ts';
import { oneModeProfile, storeProfiles } from '../support/availabilityProfiles.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { freeUdpPort } from '../support/ports.ts';
import { capture, haveCaptures } from '../support/captures.ts';
import { pausedCapture } from '../support/shiftedCapture.ts';
import { isupEvent, mapEvent, sipResponse } from '../support/signalingEvents.ts';
import { runTap } from '../../taps/pipeline/tapPipeline.ts';
import { eventually } from '../support/wait.ts';

const HAVE_SIPP = sippAvailable();
const HOST = '127.0.0.1';
const ALICE = 'msisdn:+351910000101';
const BRUNO = 'msisdn:+351910000102';
const NOBODY = 'msisdn:+351910000109';
const BOSS = 'sip:boss@corp.example';
const SPAMMER = 'sip:spam@junk.example';
const ALICE_CONTACT = 'sip:alice@10.0.0.9:5060';

const profile = (state: Parameters<typeof oneModeProfile>[0]): UserProfiles => oneModeProfile(state, { allowed: [BOSS], denied: [SPAMMER] });

const base = isolatedSettings('call-handling', 2);
const { token, line } = newToken('cscf', ['calls:decide']);
const tokensFile = path.join(mkdtempSync(path.join(tmpdir(), 'presence-tokens-')), 'tokens');
writeFileSync(tokensFile, `${line}\n`);
const s = { ...base, database: { ...base.database, url: testDatabaseUrl }, http: { ...base.http, tokensFile, token } };
const rulesSchema = `it_call_handling_${process.pid}`;
const cleanups: Array<() => Promise<void>> = [];
let api: MemberApi;
let em: EventManager;
let redirect: CallHandlingServer;
let producer: RecordProducer;
let serde: RecordSerde;

async function signal(events: SignalingEvent[]): Promise<void> {
  const before = em.stats.signals;
  for (const e of events) await producer.send(topicName(s.topics.prefix, 'signaling-events'), e.subscriber, serde.encode('signaling-events', e));
  await eventually('the events applied', () => em.stats.signals >= before + events.length, { timeoutMs: 30_000 });
}

const decide = async (key: string, query = '', auth = true) => {
  const res = await fetch(
    `${api.url}/subscribers/${encodeURIComponent(key)}/call-handling${query}`,
    auth ? { headers: { authorization: `Bearer ${token}` } } : {},
  );
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

beforeAll(async () => {
  await applyIsolated(s);
  producer = new RecordProducer(s.kafka.brokers, 'it-call-handling', 15_000);
  await producer.connect();
  cleanups.push(async () => {
    await producer.close();
    await dropSchema(rulesSchema);
    await cleanupIsolated(s);
  });
  serde = new RecordSerde(s.registry.url, s.topics.prefix);
  await serde.loadIds();
  await storeProfiles(s.database.url, rulesSchema, {
    [ALICE]: profile({ kind: 'available' }),
    [BRUNO]: profile({ kind: 'transfer', to: { number: '+33123456789' } }),
  });

  api = await startMemberApi(s, { memberId: 'em-ch-1', port: 0, host: HOST, tokens: BearerTokens.load(tokensFile) });
  cleanups.push(() => api.close());
  em = await startEventManager(s, { memberId: 'em-ch-1', rulesSchema, membership: { httpUrl: api.url, reportIntervalMs: 500 } });
  cleanups.push(() => em.stop());
  api.serve(em);
  await eventually('both partitions restored', () => em.processor.ctx.partitions().length === 2, { timeoutMs: 60_000 });

  // The redirect server finds the owner as `presence run call-handling` does: the members' reports.
  const view = await MemberReportsView.open(s, { follow: true });
  cleanups.push(() => view.close());
  await eventually('the report naming the member API', () => view.ownerOfKey(ALICE)?.httpUrl === api.url, { timeoutMs: 30_000 });
  const owners = new OwnerDecisions(view, { timeoutMs: 2000, token });
  // SIPp on loopback stands for the S-CSCF: its P-Asserted-Identity is believed.
  redirect = await CallHandlingServer.start({ host: HOST, port: 0, owners, resolveKey: directoryResolver(s), trustedProxies: new TrustedProxies([HOST]) });
  cleanups.push(async () => {
    await redirect.stop();
    owners.close();
  });

  const now = Date.now();
  await signal([
    mapEvent(ALICE, 'updateLocation', 'invoke', now - 3000, { vlrNumber: '351910999001', mscNumber: '351910999001', opc: 100, dpc: 200 }),
    mapEvent(ALICE, 'updateLocation', 'result', now - 2900, { opc: 200, dpc: 100 }),
    sipResponse(ALICE, 'REGISTER', 200, now - 2800, { callId: 'reg-alice', contacts: [`${ALICE_CONTACT};expires=3600`] }),
    mapEvent(BRUNO, 'updateLocation', 'invoke', now - 3000, { vlrNumber: '351910999001', mscNumber: '351910999001', opc: 100, dpc: 200 }),
  ]);
}, 180_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

const xmlEscaped = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** One SIPp INVITE (or MESSAGE) to the redirect server, expecting `status` and, for a 302, `contact` in Contact; ACKed like a UAC. */
async function sippCall(o: { uri: string; status: number; contact?: string; headers?: string[]; callId: string }): Promise<void> {
  const checks = o.contact
    ? `<action><ereg regexp="${xmlEscaped(o.contact.replace(/[.+?]/g, (c) => `\\${c}`))}" search_in="hdr" header="Contact:" check_it="true" assign_to="contact"/></action>`
    : '';
  const sdp = ['v=0', 'o=- 1 1 IN IP4 [local_ip]', 's=-', 'c=IN IP4 [local_ip]', 't=0 0', 'm=audio 4000 RTP/AVP 0'];
  const xml = scenarioXml(
    'call-handling UAC',
    `
  <send retrans="500"><![CDATA[

      INVITE ${o.uri} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:caller@example.com>;tag=[call_number]
      To: <${o.uri}>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:caller@[local_ip]:[local_port]>
      Max-Forwards: 70
${(o.headers ?? []).map((h) => `      ${h}`).join('\n')}
      Content-Type: application/sdp
      Content-Length: [len]

${sdp.map((l) => `      ${l}`).join('\n')}

    ]]></send>
  <recv response="${o.status}">${checks}</recv>
  <send><![CDATA[

      ACK ${o.uri} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-1]
      From: <sip:caller@example.com>;tag=[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>`,
    o.contact ? ['contact'] : [],
  );
  const args = [`${HOST}:${redirect.port}`, '-i', HOST, '-p', String(await freeUdpPort()), '-t', 'u1', '-m', '1', '-cid_str', `${o.callId}-%u`];
  const result = await startSipp({ scenario: xml, args, deadlineMs: 15_000 }).done;
  expect(result, `sipp exit ${result.code}: ${result.errors}`).toMatchObject({ code: 0 });
}

describe('call handling against live state', () => {
  it('the member API decides from the store: accept to the registered contact, forward, declined, unknown, bad input, no token', async () => {
    expect(await decide(ALICE, `?caller=${encodeURIComponent('sip:friend@example.com')}`)).toMatchObject({
      status: 200,
      body: { memberId: 'em-ch-1', key: ALICE, action: 'accept', targets: [{ uri: ALICE_CONTACT, kind: 'contact' }], mode: 'default' },
    });
    expect(await decide(BRUNO)).toMatchObject({ status: 200, body: { action: 'forward', targets: [{ uri: 'tel:+33123456789', kind: 'number' }] } });
    expect(await decide(ALICE, `?caller=${encodeURIComponent(SPAMMER)}`)).toMatchObject({ status: 200, body: { action: 'reject', reason: 'declined' } });
    expect(await decide(NOBODY)).toMatchObject({ status: 404 });
    expect(await decide(ALICE, '?medium=fax')).toMatchObject({ status: 400, body: { parameter: 'medium' } });
    expect(await decide(ALICE, '?urgent=maybe')).toMatchObject({ status: 400, body: { parameter: 'urgent' } });
    expect((await decide(ALICE, '', false)).status).toBe(401);
  });

  it.skipIf(!HAVE_SIPP)(
    'SIPp INVITEs to the redirect server: 302 to the contact, 302 to the transfer number, 603 for the denied caller',
    async () => {
      await sippCall({ uri: 'tel:+351910000101', status: 302, contact: `<${ALICE_CONTACT}>`, callId: 'ch-accept' });
      await sippCall({ uri: 'sip:+351910000102@example.com;user=phone', status: 302, contact: '<tel:+33123456789>', callId: 'ch-forward' });
      await sippCall({ uri: 'tel:+351910000101', status: 603, headers: [`P-Asserted-Identity: <${SPAMMER}>`], callId: 'ch-denied' });
      await sippCall({ uri: 'tel:+351910000109', status: 480, callId: 'ch-nostate' });
      await sippCall({ uri: 'mailto:alice@example.com', status: 416, callId: 'ch-bad' });
    },
    90_000,
  );

  it.skipIf(!HAVE_SIPP)(
    'a call answered by the callee (ISUP) makes it busy: 486 over SIP and HTTP; the boss’s urgent call is still put through',
    async () => {
      const now = Date.now();
      await signal([
        isupEvent(ALICE, 'IAM', now - 1000, { cic: 7, opc: 100, dpc: 200, role: 'called', calling: '351210000001' }),
        isupEvent(ALICE, 'ANM', now - 500, { cic: 7, opc: 200, dpc: 100, role: 'called' }),
      ]);
      expect(await decide(ALICE)).toMatchObject({ status: 200, body: { action: 'reject', reason: 'busy' } });
      await sippCall({ uri: 'tel:+351910000101', status: 486, callId: 'ch-busy' });
      // Priority alone, or the boss alone, changes nothing; both together override the busy state.
      await sippCall({ uri: 'tel:+351910000101', status: 486, headers: ['Priority: urgent'], callId: 'ch-urgent-anon' });
      await sippCall({ uri: 'tel:+351910000101', status: 486, headers: [`P-Asserted-Identity: <${BOSS}>`], callId: 'ch-boss' });
      await sippCall({
        uri: 'tel:+351910000101',
        status: 302,
        contact: `<${ALICE_CONTACT}>`,
        headers: [`P-Asserted-Identity: <${BOSS}>`, 'Priority: urgent'],
        callId: 'ch-boss-urgent',
      });
      expect(await decide(ALICE, `?caller=${encodeURIComponent(BOSS)}&urgent=true`)).toMatchObject({
        status: 200,
        body: { action: 'accept', urgentOverride: true },
      });
      expect(redirect.stats.responses).toMatchObject({ 302: 3, 486: 3, 603: 1, 480: 1, 416: 1 });
    },
    120_000,
  );

  it.skipIf(!HAVE_SIPP || !haveCaptures)(
    'a real ISUP call replayed from a capture (IAM … ANM, then REL, RLC): its called party is busy while it lasts (486), and not once it is released',
    async () => {
      // ss7/isup-call-m3ua-draft6.pcap: IAM → CFN → ACM → ANM, 17 s of call, REL → RLC; called 4891. Held after the ANM.
      const CALLED = 'msisdn:+4891';
      const { input, release } = pausedCapture(capture('ss7/isup-call-m3ua-draft6.pcap'), Date.now() - 20_000, 4);
      const replay = runTap(s, [input], { tap: 'replay', speed: Infinity, unknown: 'keep' });
      await eventually(
        'the replayed answer making the called party busy',
        async () => {
          const d = await decide(CALLED);
          return d.body.reason === 'busy' ? d : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      await sippCall({ uri: 'tel:+4891', status: 486, callId: 'ch-capture-busy' });
      release();
      expect((await replay).events).toBeGreaterThanOrEqual(6);
      const after = await eventually(
        'the replayed release ending the busy state',
        async () => {
          const d = await decide(CALLED);
          return d.status === 200 && d.body.reason !== 'busy' ? d : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      // Seen only in that call (no attach, no registration): presence knows nothing of it any more, so 480.
      expect(after.body).toMatchObject({ action: 'reject', reason: 'unknown' });
      await sippCall({ uri: 'tel:+4891', status: 480, callId: 'ch-capture-released' });
    },
    120_000,
  );
});
