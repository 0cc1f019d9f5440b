// Busy lamp field interop (issue 20): Kamailio 5.6's presence_dialoginfo and
// our gateway, fed the same way and watched the same way. A PBX-side
// publisher PUBLISHes dialog-info as Kamailio's pua_dialoginfo sends it (one
// call: early, then confirmed, then terminated, each modifying the last by
// SIP-If-Match) to each server; the same SIPp `Event: dialog` watcher
// scenario (SUBSCRIBE, then a UAS answering every NOTIFY, checking each is of
// the dialog package and active) runs against both. Both lamps follow the
// PBX's call. Then the taps see a call the PBX never routed (ISUP IAM → ACM →
// ANM → REL for the same subscriber, as the replay tap publishes it): our
// watcher's lamp follows it too; Kamailio cannot know of it.
// Kamailio sends full state every time and an empty first NOTIFY; we send an
// empty full document first, then partial state (RFC 4235 §4.1) — a watcher
// that applies RFC 4235 sees the same lamp from both, which is what is compared.
// Skips, saying why, without sipp or Kamailio with presence_dialoginfo.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNotifySink, type NotifySink } from '../../connectors/sinks/notify/notifySink.ts';
import { startSipFrontEnd, type SipFrontEnd } from '../../front-end/sipFrontEnd.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { parseDialogInfo } from '../../presence-document/dialogInfo.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { kamailioBlfMissing, startKamailioBlf, type KamailioPeer } from '../../tools/kamailio/kamailio.ts';
import { receiveNotify, scenarioXml, subscribeToPresentityUac } from '../../tools/sipp/scenarios.ts';
import { sippAvailable, startSipp } from '../../tools/sipp/sipp.ts';
import { headerOf, parseSippMessageTrace, receivedRequests, type TracedMessage } from '../../tools/sipp/sippTrace.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { freeUdpPort } from '../support/ports.ts';
import { isupEvent } from '../support/signalingEvents.ts';
import { openSipUdpClient } from '../support/sipUdpClient.ts';
import { readTopic } from '../support/topicReader.ts';
import { eventually, sleep } from '../support/wait.ts';

const HOST = '127.0.0.1';
const NUMBER = '+351910000077';
const PRESENTITY_URI = `sip:${NUMBER}@ims.example.net;user=phone`;
const PRESENTITY_KEY = `msisdn:${NUMBER}`;
const DIALOG_INFO = 'application/dialog-info+xml';
const PBX_CALL = 'pbx-call-1@pbx.example.com';
/** Between a call's PUBLISHes: ringing, then talking (generous for a shared 2-core machine; Kamailio notifies in ms). */
const PACE_MS = 2000;

const MISSING = sippAvailable() ? kamailioBlfMissing() : 'sipp not found on PATH (Debian: apt-get install sip-tester)';
if (MISSING) console.warn(`BLF interop with Kamailio skipped: ${MISSING}`);

const base = isolatedSettings('blfkam', 4);
const s = { ...base, database: { ...base.database, url: testDatabaseUrl }, identity: { ...base.identity, unknownSubscribers: 'keep' as const } };
const rulesSchema = `it_blfkam_${process.pid}`;
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const topic = (n: Parameters<typeof topicName>[1]) => topicName(s.topics.prefix, n as never);
const run = `${Date.now().toString(36)}${process.pid}`;

let kamailio: KamailioPeer | undefined;
let fe: SipFrontEnd | undefined;
let em: EventManager | undefined;
let sink: NotifySink | undefined;
const dirs: string[] = [];

beforeAll(async () => {
  if (MISSING) return;
  const logs = mkdtempSync(join(tmpdir(), 'blfkam-'));
  dirs.push(logs);
  kamailio = await startKamailioBlf({ host: HOST, port: await freeUdpPort(HOST), logFile: join(logs, 'kamailio.log') });
  await applyIsolated(s);
  await serde.loadIds();
  fe = await startSipFrontEnd(s, { host: HOST, port: 0, frontEndId: 'fe-blfkam', policy: { minExpires: 60, maxExpires: 7200, defaultExpires: 3600 } });
  em = await startEventManager(s, { memberId: 'em-blfkam', rulesSchema });
  sink = await startNotifySink(s, { host: HOST, port: 0, drainMs: 1000 });
}, 120_000);

afterAll(async () => {
  await fe?.stop();
  await em?.stop();
  await sink?.stop();
  await kamailio?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  if (!MISSING) await cleanupIsolated(s);
  await dropSchema(rulesSchema);
});

/**
 * The one watcher scenario both servers get: its UAS side, `notifies` NOTIFYs
 * in the dialog, each checked to be of the dialog package and active, and
 * answered 200. (Bodies are compared from the trace: Kamailio's first NOTIFY
 * has none.)
 */
function watcherUas(notifies: number): string {
  const checks = [
    '<ereg regexp="^ *dialog *$" search_in="hdr" header="Event:" check_it="true" assign_to="ev"/>',
    '<ereg regexp="^ *active" search_in="hdr" header="Subscription-State:" check_it="true" assign_to="ss"/>',
  ];
  return scenarioXml('BLF watcher UAS', receiveNotify(checks, { crlf: true }).repeat(notifies) + '\n  <pause milliseconds="2000"/>', ['ev', 'ss']);
}

/** A dialog-info body as pua_dialoginfo writes it for a PBX's call (full state, its own version). */
function pbxBody(version: number, state: string, callId: string): string {
  return `<?xml version="1.0"?>
<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="${version}" state="full" entity="${PRESENTITY_URI}">
  <dialog id="d-${callId}" call-id="${callId}" local-tag="lt-${run}" remote-tag="rt-${run}" direction="recipient">
    <state>${state}</state>
    <local><identity display="Colleague">${PRESENTITY_URI}</identity><target uri="${PRESENTITY_URI}"/></local>
    <remote><identity display="Reception">sip:200@pbx.example.com</identity><target uri="sip:200@pbx.example.com"/></remote>
  </dialog>
</dialog-info>`;
}

/**
 * The PBX's call as pua_dialoginfo publishes it: early, confirmed, terminated; each answered 200 with a SIP-ETag.
 * Paced like a call (it rings, then talks): Kamailio answers a PUBLISH before it builds the NOTIFYs, from the
 * presentity's state at that moment, so PUBLISHes milliseconds apart showed its watcher `terminated` twice.
 */
async function publishPbxCall(port: number, who: string, callId = PBX_CALL, states = ['early', 'confirmed', 'terminated']): Promise<void> {
  const pbx = await openSipUdpClient({ defaultTimeoutMs: 15_000 });
  let etag: string | undefined;
  try {
    for (const [i, state] of states.entries()) {
      if (i > 0) await sleep(PACE_MS);
      const body = pbxBody(i, state, callId);
      const text = [
        `PUBLISH ${PRESENTITY_URI} SIP/2.0`,
        `Via: SIP/2.0/UDP ${HOST}:${pbx.port};branch=z9hG4bK-${who}-${run}-${i}`,
        'Max-Forwards: 70',
        `From: <${PRESENTITY_URI}>;tag=pua${run}`,
        `To: <${PRESENTITY_URI}>`,
        `Call-ID: pua-${who}-${run}`,
        `CSeq: ${i + 1} PUBLISH`,
        'Event: dialog',
        'Expires: 600',
        ...(etag ? [`SIP-If-Match: ${etag}`] : []),
        `Content-Type: ${DIALOG_INFO}`,
        `Content-Length: ${Buffer.byteLength(body)}`,
        '',
        body,
      ].join('\r\n');
      pbx.socket.send(text, port, HOST);
      const r = await pbx.next();
      expect(r.status, `${who}: PUBLISH ${state}`).toBe(200);
      etag = r.headers.get('sip-etag');
      expect(etag, `${who}: SIP-ETag`).toBeTruthy();
    }
  } finally {
    await pbx.close();
  }
}

/** What a watcher's lamp shows per NOTIFY: each listed dialog as `<call>:<state>` (the taps' ISUP call has no Call-ID). */
function lamp(notifies: readonly TracedMessage[]): string[][] {
  return notifies.map((m) => (m.body.trim() === '' ? [] : parseDialogInfo(m.body).dialogs.map((d) => `${d.callId ?? 'isup'}:${d.state}`)));
}

const versions = (notifies: readonly TracedMessage[]) => notifies.filter((m) => m.body.trim() !== '').map((m) => parseDialogInfo(m.body).version);

/** Subscribes the watcher (UAC), waits for the 200 and `firstNotify`, runs `feed`, and returns what the UAS heard. */
async function watch(target: { port: number; name: string; event?: string }, notifies: number, firstNotify: () => Promise<void>, feed: () => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), `blfkam-${target.name}-`));
  dirs.push(dir);
  const uasPort = await freeUdpPort(HOST);
  const watcher = startSipp({
    scenario: watcherUas(notifies),
    args: ['-i', HOST, '-p', String(uasPort), '-t', 'u1', '-m', '1'],
    deadlineMs: 170_000,
    traceMessages: true,
  });
  const callIdPrefix = `blfkam-${target.name}-${run}`;
  const sub = await startSipp({
    scenario: subscribeToPresentityUac({
      presentityUri: PRESENTITY_URI,
      fromTag: `w${target.name}${run}`,
      expires: 600,
      tagFile: join(dir, 'totag'),
      contact: `sip:blf@${HOST}:${uasPort}`,
      event: { name: target.event ?? 'dialog', accept: DIALOG_INFO },
    }),
    args: [`${HOST}:${target.port}`, '-i', HOST, '-p', String(await freeUdpPort(HOST)), '-t', 'u1', '-m', '1', '-cid_str', `${callIdPrefix}-%u`],
    deadlineMs: 15_000,
  }).done;
  expect(sub, `${target.name}: SUBSCRIBE sipp exit ${sub.code}: ${sub.errors}`).toMatchObject({ code: 0 });
  await firstNotify();
  await feed();
  const heard = await watcher.done;
  expect(heard, `${target.name}: watcher sipp exit ${heard.code}: ${heard.errors}`).toMatchObject({ code: 0 });
  const received = receivedRequests(parseSippMessageTrace(heard.messages!), 'NOTIFY');
  for (const m of received) expect(headerOf(m, 'Call-ID', 'i')).toBe(`${callIdPrefix}-1`);
  return received;
}

/** Resolves once the owning event manager has made the first NOTIFY of the watcher dialog `callId` (it holds the subscription). */
async function subscribed(callId: string): Promise<void> {
  await eventually(
    `the first NOTIFY of ${callId}`,
    async () => {
      const got = await readTopic({ brokers: s.kafka.brokers, topic: topic('notify-requests'), partitions: 4, count: 1, timeoutMs: 10_000, settleMs: 1500 });
      const decoded = await Promise.all(got.map((m) => serde.decode('notify-requests', m.value!)));
      return decoded.some((n) => n.callId === callId);
    },
    { timeoutMs: 90_000, intervalMs: 500 },
  );
}

const PBX_LAMP = [[], [`${PBX_CALL}:early`], [`${PBX_CALL}:confirmed`], [`${PBX_CALL}:terminated`]];

describe.skipIf(MISSING !== undefined)('BLF interop: the same SIPp Event: dialog watcher against Kamailio presence_dialoginfo and against us', () => {
  it('Kamailio: the PUBLISHed call lights the lamp early → confirmed → terminated', async () => {
    const notifies = await watch(
      { port: kamailio!.port, name: 'kamailio' },
      4,
      () => sleep(1500), // Kamailio sends its first NOTIFY right after its 200
      () => publishPbxCall(kamailio!.port, 'kamailio'),
    );
    expect(lamp(notifies)).toEqual(PBX_LAMP);
    // Increasing; not required contiguous: every Kamailio document is full state, so a gap would lose nothing
    // (a contiguity check here failed once in five runs; Kamailio is the reference, not what is under test).
    const v = versions(notifies);
    expect(v, `Kamailio versions ${v.join(',')}`).toEqual([...v].sort((a, b) => a - b));
    expect(new Set(v).size).toBe(v.length);
  }, 180_000);

  it('ours: the same PUBLISHed call the same way, and then a call only the taps saw (ISUP) — versions contiguous', async () => {
    const producer = new RecordProducer(s.kafka.brokers, `it-blfkam-${run}`, 15_000);
    await producer.connect();
    const t0 = Date.now();
    const isup = (msg: string, dt: number, cause: number | null = null) => ({
      ...isupEvent(PRESENTITY_KEY, msg, t0 + dt, { cic: 31, opc: 100, dpc: 200, role: 'calling', calling: '351910000077', called: '351220000005', cause }),
      eventId: `blfkam-${run}-${msg}`,
    });
    try {
      const notifies = await watch(
        { port: fe!.port, name: 'ours' },
        8,
        // The subscription reached the owning event manager (its first NOTIFY), so the PUBLISHes come after it.
        () => subscribed(`blfkam-ours-${run}-1`),
        async () => {
          await publishPbxCall(fe!.port, 'ours');
          for (const e of [isup('IAM', 1000), isup('ACM', 2000), isup('ANM', 5000), isup('REL', 65_000, 16)])
            await producer.send(topic('signaling-events'), PRESENTITY_KEY, serde.encode('signaling-events', e));
        },
      );
      const got = lamp(notifies);
      // The PBX's call exactly as Kamailio's watcher saw it…
      expect(got.slice(0, 4)).toEqual(PBX_LAMP);
      // …and the lamp also follows the call no PBX routed, which only the taps saw.
      expect(got.slice(4)).toEqual([['isup:trying'], ['isup:early'], ['isup:confirmed'], ['isup:terminated']]);
      const docs = notifies.map((m) => parseDialogInfo(m.body));
      expect(docs.map((d) => d.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(docs.map((d) => d.state)).toEqual(['full', ...Array(7).fill('partial')]);
      expect(docs[5]!.dialogs[0]).toMatchObject({ direction: 'initiator', remote: { identity: 'tel:+351220000005' } });
      // The PBX's tags are told, so a watcher can name that one dialog (Event: dialog;call-id;to-tag;from-tag).
      expect(docs[1]!.dialogs[0]).toMatchObject({ callId: PBX_CALL, localTag: `lt-${run}`, remoteTag: `rt-${run}` });
    } finally {
      await producer.close();
    }
  }, 180_000);

  it('ours: Event: dialog;call-id=… (RFC 4235 §3.2) hears that one call, not another the same PBX publishes first', async () => {
    const wanted = `wanted-${run}@pbx.example.com`;
    const other = `other-${run}@pbx.example.com`;
    const notifies = await watch(
      { port: fe!.port, name: 'one', event: `dialog;call-id=${wanted};include-session-description` },
      4,
      () => subscribed(`blfkam-one-${run}-1`),
      async () => {
        // Each PUBLISH's 200 comes after the owner's transaction with its NOTIFYs: the other call is decided first.
        await publishPbxCall(fe!.port, 'other', other, ['early']);
        await publishPbxCall(fe!.port, 'wanted', wanted);
      },
    );
    expect(lamp(notifies)).toEqual([[], [`${wanted}:early`], [`${wanted}:confirmed`], [`${wanted}:terminated`]]);
    expect(notifies.map((m) => parseDialogInfo(m.body).version)).toEqual([1, 2, 3, 4]);
  }, 180_000);
});
