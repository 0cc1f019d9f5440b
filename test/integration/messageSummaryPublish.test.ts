// A voicemail platform PUBLISHes a mailbox's counts over SIP (RFC 3903 with an
// RFC 3842 body, `Event: message-summary`) through the SIP front end, from
// SIPp: an authorised messaging system (frontEnd.messagingPublishers) gets
// 200 with SIP-ETag and Expires once Kafka stored it, and the subscriber's
// message-summary watcher (our strict UA) gets a NOTIFY with those counts from
// its owning event manager — the same state the availability service's HTTP
// publish gives. A refresh (SIP-If-Match, no body) is 200 and tells nobody
// anything; anyone else is 403, a PIDF body 415, a package we do not take 489.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNotifySink, type NotifySink } from '../../connectors/sinks/notify/notifySink.ts';
import { startSipFrontEnd, type SipFrontEnd } from '../../front-end/sipFrontEnd.ts';
import { parseMessageSummary } from '../../presence-document/messageSummary.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { scenarioXml } from '../../tools/sipp/scenarios.ts';
import { sippAvailable, startSipp } from '../../tools/sipp/sipp.ts';
import { headerOf, parseSippMessageTrace } from '../../tools/sipp/sippTrace.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';
import { StrictWatcher } from '../support/strictWatcher.ts';
import { eventually, sleep } from '../support/wait.ts';

const HOST = '127.0.0.1';
const HAVE_SIPP = sippAvailable();
if (!HAVE_SIPP) console.warn('sipp not found on PATH (Debian: apt-get install sip-tester): the message-summary PUBLISH test is skipped');
const SIPP_PORT = 27120;
const VOICEMAIL = 'sip:vm@vm.example.net';
const MSISDN = '+9997000000191';
const OWN = `sip:${MSISDN}@ims.example.net;user=phone`;

const base = isolatedSettings('mwipub', 2);
const s = { ...base, database: { ...base.database, url: testDatabaseUrl } };
const schema = `it_mwipub_${process.pid}`;
const run = `${Date.now().toString(36)}${process.pid}`;
let em: EventManager | undefined;
let fe: SipFrontEnd | undefined;
let sink: NotifySink | undefined;
let ua: StrictWatcher | undefined;
const directory = new SubscriberDirectory(testDatabaseUrl, schema);

/** SIPp UAC: one PUBLISH (retransmitted every 500 ms until answered), expecting `expect`; with 200 it must carry SIP-ETag and Expires. */
function publishUac(o: { from: string; expect: number; contentType?: string; body?: string; ifMatch?: string; event?: string }): string {
  const lines = [
    `PUBLISH ${OWN} SIP/2.0`,
    'Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]',
    `From: <${o.from}>;tag=[pid]P[call_number]`,
    `To: <${OWN}>`,
    'Call-ID: [call_id]',
    'CSeq: 1 PUBLISH',
    'Max-Forwards: 70',
    `Event: ${o.event ?? 'message-summary'}`,
    'Expires: 3600',
    ...(o.ifMatch ? [`SIP-If-Match: ${o.ifMatch}`] : []),
    ...(o.body !== undefined ? [`Content-Type: ${o.contentType ?? 'application/simple-message-summary'}`, 'Content-Length: [len]'] : ['Content-Length: 0']),
  ];
  const checks =
    o.expect === 200
      ? `
    <action>
      <ereg regexp=".+" search_in="hdr" header="SIP-ETag:" check_it="true" assign_to="etag"/>
      <ereg regexp="^ *3600 *$" search_in="hdr" header="Expires:" check_it="true" assign_to="exp"/>
    </action>`
      : '';
  return scenarioXml(
    `message-summary publisher, expecting ${o.expect}`,
    `
  <send retrans="500"><![CDATA[

${lines.map((l) => `      ${l}`).join('\n')}

${o.body !== undefined ? `${o.body}` : ''}
    ]]></send>
  <recv response="${o.expect}">${checks}
  </recv>`,
    o.expect === 200 ? ['etag', 'exp'] : [],
  );
}

async function publish(o: Parameters<typeof publishUac>[0]): Promise<{ headers: (name: string) => string | undefined }> {
  const r = await startSipp({
    scenario: publishUac(o),
    args: [`${HOST}:${fe!.port}`, '-i', HOST, '-p', String(SIPP_PORT), '-t', 'u1', '-m', '1', '-cid_str', `pub-${run}-%u-${o.expect}`],
    deadlineMs: 15_000,
    traceMessages: true,
  }).done;
  expect(r, `sipp PUBLISH expecting ${o.expect}: exit ${r.code}: ${r.errors}`).toMatchObject({ code: 0 });
  const answer = parseSippMessageTrace(r.messages!).find((m) => m.direction === 'received' && m.startLine.startsWith('SIP/2.0'))!;
  return { headers: (name) => headerOf(answer, name) };
}

// RFC 3842 §5.2's example, CRLF as on the wire.
const SUMMARY = ['Messages-Waiting: yes', `Message-Account: ${VOICEMAIL}`, 'Voice-Message: 2/8 (0/2)'].join('\r\n') + '\r\n';

beforeAll(async () => {
  if (!HAVE_SIPP) return;
  await applyIsolated(s);
  await directory.migrate();
  await directory.provision([{ imsi: '999700000000191', msisdn: MSISDN, aor: OWN }]);
  em = await startEventManager(s, { memberId: `em-mwipub-${run}`, rulesSchema: schema });
  fe = await startSipFrontEnd(s, {
    host: HOST,
    port: 0,
    frontEndId: `fe-mwipub-${run}`,
    groups: false,
    directory,
    messagingPublishers: [`"Voicemail" <${VOICEMAIL};transport=udp>`],
  });
  sink = await startNotifySink(s, { host: HOST, port: 0, drainMs: 1000 });
  ua = await StrictWatcher.open();
  await eventually('both partitions restored', () => em!.processor.ctx.partitions().length === 2, { timeoutMs: 60_000 });
}, 180_000);

afterAll(async () => {
  await ua?.close();
  await fe?.stop();
  await em?.stop();
  await sink?.stop();
  await directory.close();
  if (HAVE_SIPP) await cleanupIsolated(s);
  await dropSchema(schema);
}, 120_000);

describe.skipIf(!HAVE_SIPP)('PUBLISH Event: message-summary from a voicemail platform (RFC 3903 + RFC 3842), from SIPp', () => {
  it('the authorised platform gets 200 with an entity tag; the watcher gets a NOTIFY with its counts; a refresh changes nothing; others are refused', async () => {
    const callId = `mwi-${run}`;
    ua!.subscribe({
      to: OWN,
      from: OWN,
      callId,
      port: fe!.port,
      host: HOST,
      event: 'message-summary',
      accept: 'application/simple-message-summary',
      expires: 3600,
    });
    await eventually('the first NOTIFY', () => ua!.accepted(callId).length >= 1 || undefined, { timeoutMs: 60_000 });
    expect(parseMessageSummary(ua!.accepted(callId)[0]!.body)).toEqual({ waiting: false, account: null, classes: [] });

    // Refused before anything reaches Kafka: the subscriber itself, an unknown system, a PIDF body, another package.
    await publish({ from: OWN, expect: 403, body: SUMMARY });
    await publish({ from: 'sip:eve@example.org', expect: 403, body: SUMMARY });
    const pidf = await publish({ from: VOICEMAIL, expect: 415, body: '<presence/>', contentType: 'application/pidf+xml' });
    expect(pidf.headers('Accept')).toBe('application/simple-message-summary');
    const other = await publish({ from: VOICEMAIL, expect: 489, body: SUMMARY, event: 'message' });
    expect(other.headers('Allow-Events')).toBe('presence, dialog, message-summary');
    await publish({ from: VOICEMAIL, expect: 400, body: 'Voice-Message: lots\r\n' });

    const ok = await publish({ from: VOICEMAIL, expect: 200, body: SUMMARY });
    const etag = ok.headers('SIP-ETag')!;
    await eventually('the NOTIFY with the published counts', () => ua!.accepted(callId).length >= 2 || undefined, { timeoutMs: 30_000 });
    const notify = ua!.accepted(callId)[1]!;
    expect(notify.contentType).toBe('application/simple-message-summary');
    expect(parseMessageSummary(notify.body)).toEqual({
      waiting: true,
      account: VOICEMAIL,
      classes: [{ context: 'voice-message', newCount: 2, oldCount: 8, urgentNew: 0, urgentOld: 2 }],
    });

    // A refresh (no body) and the same counts again: 200, and the watcher hears nothing new.
    await publish({ from: VOICEMAIL, expect: 200, ifMatch: etag });
    await publish({ from: VOICEMAIL, expect: 200, body: SUMMARY });
    // Then the platform clears the mailbox: one more NOTIFY.
    await publish({ from: VOICEMAIL, expect: 200, body: 'Messages-Waiting: no\r\nVoice-Message: 0/10\r\n' });
    await eventually('the NOTIFY clearing the light', () => ua!.accepted(callId).length >= 3 || undefined, { timeoutMs: 30_000 });
    await sleep(1000);
    expect(ua!.accepted(callId)).toHaveLength(3);
    expect(parseMessageSummary(ua!.accepted(callId)[2]!.body)).toMatchObject({
      waiting: false,
      classes: [{ context: 'voice-message', newCount: 0, oldCount: 10 }],
    });
    expect(ua!.backwards).toEqual([]);
    expect(ua!.accepted(callId).map((n) => n.cseq)).toEqual([1, 2, 3].map((k) => ua!.accepted(callId)[0]!.cseq + k - 1));
  }, 180_000);
});
