// The busy lamp field end to end (issue 20, RFC 4235): a SIPp watcher
// SUBSCRIBEs with `Event: dialog` through the SIP front end to the calling
// party of a real ISUP call (ss7/isup-call-m3ua-draft6.pcap: IAM → CFN → ACM →
// ANM → REL → RLC, CIC 213, calling 3933399708, called 4891), replayed through
// the replay tap with its clock moved to now. The event manager that owns the
// subscriber holds the dialog subscription and, from the call state it derives
// from the copied ISUP, emits dialog-info NOTIFYs: the full (empty) state
// first, then partial ones trying → early → confirmed → terminated, versions contiguous;
// the notify sink delivers them to a second SIPp (a UAS at the SUBSCRIBE's
// Contact) that checks each carries `Event: dialog` and dialog-info. No PBX saw
// this call: the lamp follows it from the copied signaling alone. The called
// party's watcher sees the same call as recipient without the caller, whose
// IAM says presentation restricted; every document is valid against the RFC's
// schema (xmllint).
// Then a PBX's side (issue 20 item 4): dialog-info PUBLISHed through the front
// end, as Kamailio's pua_dialoginfo sends it, reaches another subscriber's BLF
// watcher: published early, modified to confirmed, removed.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_XMLLINT, validateAgainstSchema } from '../support/xmlSchema.ts';
import { startNotifySink, type NotifySink } from '../../connectors/sinks/notify/notifySink.ts';
import { startSipFrontEnd, type SipFrontEnd } from '../../front-end/sipFrontEnd.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { openSipUdpClient } from '../support/sipUdpClient.ts';
import { subscriptionRecord } from '../support/subscriptionRecords.ts';
import { parseDialogInfo } from '../../presence-document/dialogInfo.ts';
import type { NotifyRequest } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { shiftedCapture } from '../support/shiftedCapture.ts';
import { runTap } from '../../taps/pipeline/tapPipeline.ts';
import { receiveNotify, scenarioXml, subscribeToPresentityUac } from '../../tools/sipp/scenarios.ts';
import { sippAvailable, startSipp } from '../../tools/sipp/sipp.ts';
import { headerOf, parseSippMessageTrace, receivedRequests } from '../../tools/sipp/sippTrace.ts';
import { capture, haveCaptures, noCapturesReason } from '../support/captures.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { freeUdpPort } from '../support/ports.ts';
import { sippToTag } from '../support/sippToTag.ts';
import { pbxDialogPublish } from '../support/pbxPublish.ts';
import { readTopic } from '../support/topicReader.ts';

const HOST = '127.0.0.1';
const CAPTURE = 'ss7/isup-call-m3ua-draft6.pcap';
const PRESENTITY_URI = 'sip:+3933399708@ims.example.net;user=phone';
const PRESENTITY_KEY = 'msisdn:+3933399708';
const DIALOG_INFO = 'application/dialog-info+xml';
const HAVE_SIPP = sippAvailable();
const HAVE_CAPTURE = haveCaptures && existsSync(capture(CAPTURE));
if (!HAVE_SIPP) console.warn('sipp not found on PATH (Debian: apt-get install sip-tester): the BLF watcher test is skipped');
if (!HAVE_CAPTURE) console.warn(`BLF watcher test skipped: ${haveCaptures ? `${capture(CAPTURE)} is absent` : noCapturesReason}`);

const base = isolatedSettings('blf', 4);
const s = { ...base, database: { ...base.database, url: testDatabaseUrl }, identity: { ...base.identity, unknownSubscribers: 'keep' as const } };
const rulesSchema = `it_blf_${process.pid}`;
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const topic = (n: Parameters<typeof topicName>[1]) => topicName(s.topics.prefix, n as never);
const run = `${Date.now().toString(36)}${process.pid}`;
const XSD = join(import.meta.dirname, '../../presence-document/dialog-info.xsd');

/** xmllint's verdict on a NOTIFY body against the RFC 4235 schema (null without xmllint). */
function schemaErrors(body: string): string | null {
  if (!HAVE_XMLLINT) return null;
  const r = validateAgainstSchema(XSD, body);
  return r.ok ? null : r.out;
}
let fe: SipFrontEnd | undefined;
let em: EventManager | undefined;
let sink: NotifySink | undefined;
const dirs: string[] = [];

beforeAll(async () => {
  if (!HAVE_SIPP || !HAVE_CAPTURE) return;
  await applyIsolated(s);
  await serde.loadIds();
  fe = await startSipFrontEnd(s, { host: HOST, port: 0, frontEndId: 'fe-blf', policy: { minExpires: 60, maxExpires: 7200, defaultExpires: 3600 } });
  em = await startEventManager(s, { memberId: 'em-blf', rulesSchema });
  sink = await startNotifySink(s, { host: HOST, port: 0, drainMs: 1000 });
});

afterAll(async () => {
  await fe?.stop();
  await em?.stop();
  await sink?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  if (HAVE_SIPP && HAVE_CAPTURE) await cleanupIsolated(s);
  await dropSchema(rulesSchema);
});

describe.skipIf(!HAVE_SIPP || !HAVE_CAPTURE)('BLF: SIPp Event: dialog watcher ← replayed ISUP call', () => {
  it('the watcher sees the call ring, answer and hang up as dialog-info NOTIFYs with contiguous versions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'blf-'));
    dirs.push(dir);
    const tagFile = join(dir, 'totag');
    const callIdPrefix = `blf-${run}`;
    const callId = `${callIdPrefix}-1`;
    const fromTag = `b${run}`;
    // The watcher's receiving side: five NOTIFYs, each checked to be of the dialog package with a dialog-info body.
    const uasPort = await freeUdpPort(HOST);
    const contact = `sip:blf@${HOST}:${uasPort}`;
    const checks = [
      '<ereg regexp="^ *dialog *$" search_in="hdr" header="Event:" check_it="true" assign_to="ev"/>',
      '<ereg regexp="^ *application/dialog-info\\+xml *$" search_in="hdr" header="Content-Type:" check_it="true" assign_to="ct"/>',
      '<ereg regexp="dialog-info xmlns=.urn:ietf:params:xml:ns:dialog-info" search_in="body" check_it="true" assign_to="di"/>',
    ];
    const watcher = startSipp({
      scenario: scenarioXml('BLF watcher UAS', receiveNotify(checks, { crlf: true }).repeat(5) + '\n  <pause milliseconds="2000"/>', ['ev', 'ct', 'di']),
      args: ['-i', HOST, '-p', String(uasPort), '-t', 'u1', '-m', '1'],
      deadlineMs: 170_000,
      traceMessages: true,
    });

    const sipp = startSipp({
      scenario: subscribeToPresentityUac({
        presentityUri: PRESENTITY_URI,
        fromTag,
        expires: 3600,
        tagFile,
        contact,
        event: { name: 'dialog', accept: DIALOG_INFO },
      }),
      args: [`${HOST}:${fe!.port}`, '-i', HOST, '-p', String(await freeUdpPort(HOST)), '-t', 'u1', '-m', '1', '-cid_str', `${callIdPrefix}-%u`],
      deadlineMs: 15_000,
    });
    const result = await sipp.done;
    expect(result, `sipp exit ${result.code}: ${result.errors}`).toMatchObject({ code: 0 });
    const toTag = await sippToTag(tagFile);

    const subs = await readTopic({ brokers: s.kafka.brokers, topic: topic('subscriptions'), partitions: 4, count: 1, timeoutMs: 30_000 });
    const subscription = await serde.decode('subscriptions', subs[0]!.value!);
    expect(subscription).toMatchObject({ presentity: PRESENTITY_KEY, event: 'dialog', callId, watcherTag: fromTag, localTag: toTag, accept: [DIALOG_INFO] });

    // The called party (+4891) gets a BLF watcher too, as a recorded Subscription: the capture's IAM says the caller's presentation is restricted.
    const producer = new RecordProducer(s.kafka.brokers, `it-blf-${run}`, 15_000);
    await producer.connect();
    try {
      const b = subscriptionRecord('msisdn:+4891', `blf-b-${run}`, { presentityUri: 'tel:+4891', event: 'dialog', accept: [DIALOG_INFO] });
      await producer.send(topic('subscriptions'), b.presentity, serde.encode('subscriptions', b));
    } finally {
      await producer.close();
    }

    // Both subscriptions exist at the event manager (their first NOTIFYs) before the call is replayed.
    expect(
      await readTopic({ brokers: s.kafka.brokers, topic: topic('notify-requests'), partitions: 4, count: 2, timeoutMs: 60_000, settleMs: 1000 }),
    ).toHaveLength(2);

    const sum = await runTap(s, [shiftedCapture(capture(CAPTURE), Date.now())], { tap: 'replay', speed: Infinity, unknown: 'keep' });
    expect(sum.events).toBeGreaterThanOrEqual(6);

    const got = await readTopic({ brokers: s.kafka.brokers, topic: topic('notify-requests'), partitions: 4, count: 10, timeoutMs: 60_000, settleMs: 3000 });
    const all = await Promise.all(got.map((m) => serde.decode('notify-requests', m.value!)));
    const notifies: NotifyRequest[] = all.filter((n) => n.callId === callId);
    // Every document is valid against RFC 4235's schema.
    for (const n of all) expect(schemaErrors(n.body!), n.body!).toBeNull();
    // The called party's lamp: the same call as recipient, and never who called (presentation restricted).
    const calledDocs = all.filter((n) => n.callId === `blf-b-${run}`).map((n) => parseDialogInfo(n.body!));
    expect(calledDocs.map((d) => d.dialogs.map((x) => [x.direction, x.state]))).toEqual([
      [],
      [['recipient', 'trying']],
      [['recipient', 'early']],
      [['recipient', 'confirmed']],
      [['recipient', 'terminated']],
    ]);
    for (const d of calledDocs) expect(JSON.stringify(d)).not.toContain('3933399708');
    for (const n of notifies) {
      expect(n).toMatchObject({
        presentity: PRESENTITY_KEY,
        event: 'dialog',
        remoteTag: fromTag,
        localTag: toTag,
        subscriptionState: 'active',
        contentType: DIALOG_INFO,
      });
    }
    expect(notifies.map((n) => [n.cseq, n.version])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
      [5, 5],
    ]);
    const docs = notifies.map((n) => parseDialogInfo(n.body!));
    // Full state first, then partial: only the changed call (RFC 4235 §4.1); the document's version the subscription's NOTIFY count.
    expect(docs.map((d) => [d.state, d.version, d.entity])).toEqual(docs.map((_, i) => [i === 0 ? 'full' : 'partial', i + 1, PRESENTITY_URI]));
    // Before the call: no dialog (lamp off); then the one call, as the calling party's: trying (IAM), early (ACM), confirmed (ANM), terminated (REL).
    expect(docs.map((d) => d.dialogs.map((x) => x.state))).toEqual([[], ['trying'], ['early'], ['confirmed'], ['terminated']]);
    const dialogIds = new Set(docs.slice(1).map((d) => d.dialogs[0]!.id));
    expect(dialogIds.size).toBe(1);
    for (const d of docs.slice(1)) {
      expect(d.dialogs[0]).toMatchObject({ direction: 'initiator', local: { identity: PRESENTITY_URI }, remote: { identity: 'tel:+4891' } });
    }
    // Hung up after the answer: no refusal event.
    expect(docs[4]!.dialogs[0]!.event).toBeUndefined();
    // CFN and RLC change no state: nothing more for this watcher.
    expect(notifies).toHaveLength(5);

    // What the watcher received on the wire: those five, in CSeq order, byte for byte.
    const heard = await watcher.done;
    expect(heard, `watcher sipp exit ${heard.code}: ${heard.errors}`).toMatchObject({ code: 0 });
    const received = receivedRequests(parseSippMessageTrace(heard.messages!), 'NOTIFY');
    expect(received.map((m) => headerOf(m, 'CSeq'))).toEqual(['1 NOTIFY', '2 NOTIFY', '3 NOTIFY', '4 NOTIFY', '5 NOTIFY']);
    for (const [i, m] of received.entries()) {
      expect(headerOf(m, 'Event', 'o')).toBe('dialog');
      expect(headerOf(m, 'Call-ID', 'i')).toBe(callId);
      expect(m.body).toBe(notifies[i]!.body);
    }
  }, 180_000);

  it('a PBX PUBLISHes dialog-info (pua_dialoginfo): the watcher sees its call early, then confirmed, then gone; the PUBLISHes get 200 with SIP-ETag', async () => {
    const uri = 'sip:+351910000099@ims.example.net;user=phone';
    const key = 'msisdn:+351910000099';
    const dir = mkdtempSync(join(tmpdir(), 'blf-pub-'));
    dirs.push(dir);
    const callIdPrefix = `blf-pub-${run}`;
    const callId = `${callIdPrefix}-1`;
    const uasPort = await freeUdpPort(HOST);
    const checks = ['<ereg regexp="^ *dialog *$" search_in="hdr" header="Event:" check_it="true" assign_to="ev"/>'];
    const watcher = startSipp({
      scenario: scenarioXml('BLF watcher UAS (PBX-fed)', receiveNotify(checks, { crlf: true }).repeat(4) + '\n  <pause milliseconds="2000"/>', ['ev']),
      args: ['-i', HOST, '-p', String(uasPort), '-t', 'u1', '-m', '1'],
      deadlineMs: 120_000,
      traceMessages: true,
    });
    const sipp = startSipp({
      scenario: subscribeToPresentityUac({
        presentityUri: uri,
        fromTag: `bp${run}`,
        expires: 3600,
        tagFile: join(dir, 'totag'),
        contact: `sip:blf@${HOST}:${uasPort}`,
        event: { name: 'dialog', accept: DIALOG_INFO },
      }),
      args: [`${HOST}:${fe!.port}`, '-i', HOST, '-p', String(await freeUdpPort(HOST)), '-t', 'u1', '-m', '1', '-cid_str', `${callIdPrefix}-%u`],
      deadlineMs: 15_000,
    });
    expect((await sipp.done).code).toBe(0);

    // The PBX: PUBLISH Event: dialog for the subscriber, as pua_dialoginfo does (initial, modify by SIP-If-Match, remove).
    const pbx = await openSipUdpClient({ defaultTimeoutMs: 10_000 });
    let cseq = 0;
    const publish = async (o: { state?: string; ifMatch?: string; expires: number }) => {
      cseq++;
      const text = pbxDialogPublish({ presentity: uri, host: HOST, port: pbx.port, callId: `pbx-pub-${run}`, fromTag: `pbx${run}`, cseq, ...o });
      pbx.socket.send(text, fe!.port, HOST);
      const r = await pbx.next();
      expect(r.status, `PUBLISH #${cseq}`).toBe(200);
      return r.headers.get('sip-etag')!;
    };
    try {
      const etag = await publish({ state: 'early', expires: 600 });
      expect(etag).toBeTruthy();
      const etag2 = await publish({ state: 'confirmed', ifMatch: etag, expires: 600 });
      await publish({ ifMatch: etag2, expires: 0 });
    } finally {
      await pbx.close();
    }

    const got = await readTopic({ brokers: s.kafka.brokers, topic: topic('notify-requests'), partitions: 4, count: 4, timeoutMs: 60_000, settleMs: 3000 });
    const notifies = (await Promise.all(got.map((m) => serde.decode('notify-requests', m.value!)))).filter((n) => n.callId === callId);
    expect(notifies.every((n) => n.presentity === key && n.event === 'dialog')).toBe(true);
    expect(notifies.map((n) => n.version)).toEqual([1, 2, 3, 4]);
    const docs = notifies.map((n) => parseDialogInfo(n.body!));
    expect(docs.map((d) => d.dialogs.map((x) => [x.id, x.state]))).toEqual([[], [['pub-pbx-1', 'early']], [['pub-pbx-1', 'confirmed']], []]);
    // The PBX removed a call it had told as confirmed: a partial document cannot say it is gone, so full state (RFC 4235 §4.1).
    expect(docs.map((d) => d.state)).toEqual(['full', 'partial', 'partial', 'full']);
    expect(docs[2]!.dialogs[0]).toMatchObject({
      callId: 'pbx-call-1@pbx.example.com',
      direction: 'recipient',
      remote: { identity: 'sip:200@pbx.example.com' },
    });

    const heard = await watcher.done;
    expect(heard, `watcher sipp exit ${heard.code}: ${heard.errors}`).toMatchObject({ code: 0 });
    expect(receivedRequests(parseSippMessageTrace(heard.messages!), 'NOTIFY').map((m) => m.body)).toEqual(notifies.map((n) => n.body));
  }, 150_000);
});
