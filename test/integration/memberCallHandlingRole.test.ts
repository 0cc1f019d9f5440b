// `presence run event-manager --call-handling-port` as deployed (a child
// process): the in-member redirect server answers with `run call-handling`'s
// options — `--voicemail` diverts the busy callee there (RFC 4458 target and
// cause), `--no-asserted-identity` makes the From the caller whatever
// P-Asserted-Identity says — and its counters are on the member's admin port
// under the documented names, with the member's local/elsewhere split.
// The member's database is one of its own (its availability tables live in the
// default `presence` schema), created here and dropped afterwards.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { adminUrlIn, scrape, seriesValue } from '../support/adminScrape.ts';
import { oneModeProfile, storeProfiles } from '../support/availabilityProfiles.ts';
import { repoRoot } from '../support/captures.ts';
import { onTestDatabase, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { startMemberProcess, type MemberProcess } from '../support/memberProcess.ts';
import { isupEvent, mapEvent, sipResponse } from '../support/signalingEvents.ts';
import { openSipUdpClient, type SipUdpClient } from '../support/sipUdpClient.ts';
import { eventually } from '../support/wait.ts';

const HOST = '127.0.0.1';
const SIP_PORT = 27610;
const ADMIN_PORT = 27611;
const ALICE = 'msisdn:+351910000171';
const BRUNO = 'msisdn:+351910000172';
const SPAMMER = 'sip:spam@junk.example';
const ALICE_CONTACT = 'sip:alice@10.0.0.9:5060';
const VOICEMAIL = 'sip:vm@voicemail.example';

const s = isolatedSettings('callh2-member-role', 2);
const database = `callh2_member_role_${process.pid}`;
const databaseUrl = testDatabaseUrl.replace(/\/[^/]+$/, `/${database}`);
const cleanups: Array<() => Promise<unknown>> = [];
let member: MemberProcess;
let ua: SipUdpClient;
let admin: string;
let n = 0;

/** One INVITE over UDP with extra headers; the final answer (no 100 Trying from this server). */
async function invite(callee: string, o: { from?: string; headers?: string[] } = {}) {
  const number = callee.slice('msisdn:'.length);
  const text = [
    `INVITE tel:${number} SIP/2.0`,
    `Via: SIP/2.0/UDP ${HOST}:${ua.port};branch=z9hG4bK-mchr-${++n}`,
    'Max-Forwards: 70',
    `From: <${o.from ?? 'sip:friend@example.com'}>;tag=f${n}`,
    `To: <tel:${number}>`,
    `Call-ID: mchr-${n}@test`,
    'CSeq: 1 INVITE',
    ...(o.headers ?? []),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  ua.socket.send(Buffer.from(text), SIP_PORT, HOST);
  return ua.next(3000);
}

beforeAll(async () => {
  await applyIsolated(s);
  cleanups.push(() => cleanupIsolated(s));
  await onTestDatabase(`create database ${database}`);
  cleanups.push(() => onTestDatabase(`drop database if exists ${database} with (force)`));
  await storeProfiles(databaseUrl, 'presence', {
    [ALICE]: oneModeProfile({ kind: 'available' }, { denied: [SPAMMER] }),
    [BRUNO]: oneModeProfile({ kind: 'available' }, { denied: [SPAMMER] }),
  });
  // Provisioned subscribers, as deployed: the in-member server keys callees through the directory.
  const directory = new SubscriberDirectory(databaseUrl);
  await directory.migrate();
  await directory.provision([ALICE, BRUNO].map((k) => ({ msisdn: k.slice('msisdn:'.length), imsi: null, aor: null })));
  await directory.close();

  member = await startMemberProcess(
    s,
    'callh2-member',
    [
      'event-manager',
      '--member-id',
      `callh2-em-${process.pid}`,
      '--call-handling-port',
      String(SIP_PORT),
      '--admin-port',
      String(ADMIN_PORT),
      '--voicemail',
      VOICEMAIL,
      '--no-asserted-identity',
      '--stats-interval',
      '3600',
    ],
    /call-handling redirect server listening on /,
    { PRESENCE_DATABASE_URL: databaseUrl },
  );
  cleanups.push(() => member.stop('SIGTERM'));
  admin = adminUrlIn(member.lines.map((l) => l.text).join('\n'))!;
  ua = await openSipUdpClient();
  cleanups.push(() => ua.close());

  const producer = new RecordProducer(s.kafka.brokers, 'it-callh2-member-role', 15_000);
  await producer.connect();
  try {
    const serde = new RecordSerde(s.registry.url, s.topics.prefix);
    await serde.loadIds();
    const now = Date.now();
    const attach = (key: string) => [
      mapEvent(key, 'updateLocation', 'invoke', now - 5000, { vlrNumber: '351910999001', mscNumber: '351910999001', opc: 100, dpc: 200 }),
      mapEvent(key, 'updateLocation', 'result', now - 4900, { opc: 200, dpc: 100 }),
    ];
    const events = [
      ...attach(ALICE),
      sipResponse(ALICE, 'REGISTER', 200, now - 4800, { callId: 'reg-alice-r', contacts: [`${ALICE_CONTACT};expires=3600`] }),
      ...attach(BRUNO),
      // Bruno answers a call: busy, diverted to voicemail.
      isupEvent(BRUNO, 'IAM', now - 3000, { cic: 51, opc: 100, dpc: 200, role: 'called', calling: '351210000001' }),
      isupEvent(BRUNO, 'ANM', now - 2500, { cic: 51, opc: 200, dpc: 100, role: 'called' }),
    ];
    for (const e of events) await producer.send(topicName(s.topics.prefix, 'signaling-events'), e.subscriber, serde.encode('signaling-events', e));
  } finally {
    await producer.close();
  }
  // Ready once the member holds the partitions and has applied the events: Bruno busy.
  await eventually(
    'the member deciding from live state',
    async () => {
      const a = await invite(BRUNO);
      if (a.status === 302 && a.headers.get('contact')?.includes(VOICEMAIL)) return true;
      throw new Error(`Bruno: ${a.status} ${a.headers.get('contact') ?? ''} ${a.headers.get('reason') ?? ''}`);
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  );
}, 180_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe('run event-manager --call-handling-port with --voicemail and --no-asserted-identity', () => {
  it('busy goes to the voicemail with RFC 4458 target and cause 486; the registered contact otherwise', async () => {
    const busy = await invite(BRUNO);
    expect(busy.status).toBe(302);
    expect(busy.headers.getAll('contact')).toEqual([`<${VOICEMAIL};target=tel:+351910000172;cause=486>`]);
    const accept = await invite(ALICE);
    expect(accept.status).toBe(302);
    expect(accept.headers.getAll('contact')).toEqual([`<${ALICE_CONTACT}>`]);
  });

  it('the caller is the From: an asserted identity is ignored, a denied From is declined', async () => {
    expect((await invite(ALICE, { headers: [`P-Asserted-Identity: <${SPAMMER}>`] })).status).toBe(302);
    expect((await invite(ALICE, { from: SPAMMER, headers: ['P-Asserted-Identity: <sip:friend@example.com>'] })).status).toBe(603);
  });

  it("counts on the member's admin port under run call-handling's names, and where each call was decided", async () => {
    const t = await scrape(admin);
    const invites = seriesValue(t, 'presence_call_handling_requests_total{method="INVITE"}') ?? 0;
    // At least the 4 INVITEs above and one readiness probe, those decided here; a probe before the member held
    // Bruno's partition went elsewhere (no other owner: 503).
    expect(invites).toBeGreaterThanOrEqual(5);
    const local = seriesValue(t, 'presence_call_handling_member_decisions_total{where="local"}') ?? 0;
    const elsewhere = seriesValue(t, 'presence_call_handling_member_decisions_total{where="elsewhere"}') ?? 0;
    expect(local).toBeGreaterThanOrEqual(5);
    expect(local + elsewhere).toBe(invites);
    expect(seriesValue(t, 'presence_call_handling_responses_total{code="503"}') ?? 0).toBe(elsewhere);
    expect(seriesValue(t, 'presence_call_handling_responses_total{code="603"}')).toBe(1);
    expect(seriesValue(t, 'presence_call_handling_decisions_total{action="voicemail"}')).toBeGreaterThanOrEqual(2);
    expect(seriesValue(t, 'presence_call_handling_decisions_total{action="reject"}')).toBe(1);
    expect(seriesValue(t, 'presence_call_handling_decision_seconds_count')).toBe(invites);
    expect(seriesValue(t, 'presence_call_handling_ready')).toBe(1);
    // The member's own series are there too: one admin port for the member and its redirect server.
    expect(t).toContain('presence_event_manager_');
  });

  it('refuses a --voicemail that is no SIP or tel URI before starting, naming the flag', () => {
    const r = spawnSync(
      process.execPath,
      [path.join(repoRoot, 'bin/presence.mjs'), 'run', 'event-manager', '--call-handling-port', '0', '--voicemail', 'http://vm.example'],
      { encoding: 'utf8', timeout: 30_000, env: { ...process.env, PRESENCE_TOPIC_PREFIX: s.topics.prefix } },
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('--voicemail must be a sip:, sips: or tel: URI, not http://vm.example');
  });
});
