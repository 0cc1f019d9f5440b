// End to end from a real watcher to derived presence: SIPp (Debian package
// sip-tester) SUBSCRIBEs to a subscriber of a shared capture through the SIP
// front end (as `presence run sip-front`: Subscription records on Kafka) and
// gets 200; an event manager owns the dialog; the capture is replayed through
// the replay tap into signaling-events; notify-requests then carries, in
// SIPp's dialog (its Call-ID and From-tag, our To-tag), the initial NOTIFY and
// one NOTIFY per change of the derived document, with the facts the capture
// implies. The notify sink (as `presence run notify-sink`) delivers them over
// UDP to a second SIPp, a UAS at the SUBSCRIBE's Contact (a SIPp UAC sends
// everything to its command-line target, so it cannot receive them itself):
// its message trace shows what the watcher really got — three NOTIFYs in
// CSeq order in SIPp's dialog, with their headers and PIDF — and
// delivery-reports has `delivered` for each.
//
// Capture: sip/call-with-rtp.pcap. francisco@bestel.com places a call
// (INVITE, 180, 200 at frame 498: in a call → RPID on-the-phone), then
// REGISTERs (200 at frame 1727: contact sip:francisco@200.57.7.204:5061, basic
// open), then is called again (INVITE/180: still in the first call).
// The frames are replayed with their clock moved to now: the watcher's
// SUBSCRIBE is live traffic, and in stream-time mode a 2005 capture behind a
// 2026 SUBSCRIBE would have every 2005 timer (registration expiry, stuck call)
// due at once.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSipFrontEnd, type SipFrontEnd } from '../../front-end/sipFrontEnd.ts';
import { notifyReceiverUas, subscribeToPresentityUac } from '../../tools/sipp/scenarios.ts';
import { sippAvailable, startSipp } from '../../tools/sipp/sipp.ts';
import { headerOf, parseSippMessageTrace, receivedRequests } from '../../tools/sipp/sippTrace.ts';
import { startNotifySink, type NotifySink } from '../../connectors/sinks/notify/notifySink.ts';
import { shiftedCapture } from '../support/shiftedCapture.ts';
import { runTap } from '../../taps/pipeline/tapPipeline.ts';
import type { NotifyRequest } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { capture, haveCaptures, noCapturesReason } from '../support/captures.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { freeUdpPort } from '../support/ports.ts';
import { readTopic } from '../support/topicReader.ts';
import { sippToTag } from '../support/sippToTag.ts';

const HOST = '127.0.0.1';
const CAPTURE = 'sip/call-with-rtp.pcap';
const PRESENTITY_URI = 'sip:francisco@bestel.com';
const PRESENTITY_KEY = 'aor:sip:francisco@bestel.com';
const HAVE_SIPP = sippAvailable();
const HAVE_CAPTURE = haveCaptures && existsSync(capture(CAPTURE));
if (!HAVE_SIPP) console.warn('sipp not found on PATH (Debian: apt-get install sip-tester): the SIPp SUBSCRIBE + replay test is skipped');
if (!HAVE_CAPTURE) console.warn(`SIPp SUBSCRIBE + replay test skipped: ${haveCaptures ? `${capture(CAPTURE)} is absent` : noCapturesReason}`);

const base = isolatedSettings('sipp-replay', 4);
const s = { ...base, database: { ...base.database, url: testDatabaseUrl }, identity: { ...base.identity, unknownSubscribers: 'keep' as const } };
const rulesSchema = `it_sipp_replay_${process.pid}`;
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const topic = (n: Parameters<typeof topicName>[1]) => topicName(s.topics.prefix, n as never);
const run = `${Date.now().toString(36)}${process.pid}`;
let fe: SipFrontEnd | undefined;
let em: EventManager | undefined;
let sink: NotifySink | undefined;
const dirs: string[] = [];

beforeAll(async () => {
  if (!HAVE_SIPP || !HAVE_CAPTURE) return;
  await applyIsolated(s);
  await serde.loadIds();
  // What `presence run sip-front` starts (no directory: the presentity URI is its own key, as the replay's --no-directory).
  fe = await startSipFrontEnd(s, { host: HOST, port: 0, frontEndId: 'fe-sipp-replay', policy: { minExpires: 60, maxExpires: 7200, defaultExpires: 3600 } });
  em = await startEventManager(s, { memberId: 'em-sipp-replay', rulesSchema });
  // What `presence run notify-sink` starts (default T1 500 ms and retry policy).
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

describe.skipIf(!HAVE_SIPP || !HAVE_CAPTURE)('SIPp SUBSCRIBE → front end → event manager ← replayed capture → notify sink → SIPp', () => {
  it('SIPp gets 200; its dialog then receives, over the network, the initial NOTIFY and the presence the capture implies (on the phone, then registered at its contact), each reported delivered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sipp-replay-'));
    dirs.push(dir);
    const tagFile = join(dir, 'totag');
    const callIdPrefix = `sipp-replay-${run}`;
    const callId = `${callIdPrefix}-1`;
    const fromTag = `w${run}`;
    // The watcher's receiving side first: a SIPp UAS at the Contact the SUBSCRIBE gives, answering three NOTIFYs 200
    // (a fourth, within its 2 s linger, would be an unexpected message and fail it), its message trace kept.
    const uasPort = await freeUdpPort(HOST);
    const contact = `sip:watcher@${HOST}:${uasPort}`;
    const watcher = startSipp({
      scenario: notifyReceiverUas(3),
      args: ['-i', HOST, '-p', String(uasPort), '-t', 'u1', '-m', '1'],
      deadlineMs: 170_000,
      traceMessages: true,
    });
    try {
      const sipp = startSipp({
        scenario: subscribeToPresentityUac({ presentityUri: PRESENTITY_URI, fromTag, expires: 3600, tagFile, contact }),
        args: [`${HOST}:${fe!.port}`, '-i', HOST, '-p', String(await freeUdpPort(HOST)), '-t', 'u1', '-m', '1', '-cid_str', `${callIdPrefix}-%u`],
        deadlineMs: 15_000,
      });
      const result = await sipp.done;
      expect(result, `sipp exit ${result.code}: ${result.errors}`).toMatchObject({ code: 0 });
      const toTag = await sippToTag(tagFile);
      expect(toTag).toMatch(/^[0-9a-f]{16}$/);

      // The front end's record: SIPp's dialog identifiers and CSeq, keyed by the presentity.
      const subs = await readTopic({ brokers: s.kafka.brokers, topic: topic('subscriptions'), partitions: 4, count: 1, timeoutMs: 30_000 });
      expect(subs.map((m) => m.key?.toString())).toEqual([PRESENTITY_KEY]);
      const subscription = await serde.decode('subscriptions', subs[0]!.value!);
      expect(subscription).toMatchObject({
        presentity: PRESENTITY_KEY,
        presentityUri: PRESENTITY_URI,
        callId,
        watcherTag: fromTag,
        localTag: toTag,
        cseq: 1,
        expires: 3600,
        contact,
      });

      // The dialog exists at the event manager (its immediate NOTIFY) before the capture plays.
      const first = await readTopic({ brokers: s.kafka.brokers, topic: topic('notify-requests'), partitions: 4, count: 1, timeoutMs: 60_000 });
      expect(first).toHaveLength(1);

      const sum = await runTap(s, [shiftedCapture(capture(CAPTURE), Date.now())], { tap: 'replay', speed: Infinity, unknown: 'keep' });
      expect(sum.events).toBeGreaterThan(0);
      const events = await readTopic({
        brokers: s.kafka.brokers,
        topic: topic('signaling-events'),
        partitions: 4,
        count: sum.events,
        timeoutMs: 30_000,
        settleMs: 500,
      });
      expect(events.filter((m) => m.key?.toString() === PRESENTITY_KEY).length).toBeGreaterThanOrEqual(8);

      const got = await readTopic({ brokers: s.kafka.brokers, topic: topic('notify-requests'), partitions: 4, count: 3, timeoutMs: 60_000, settleMs: 3000 });
      const notifies: NotifyRequest[] = (await Promise.all(got.map((m) => serde.decode('notify-requests', m.value!)))).filter((n) => n.callId === callId);
      // SIPp's dialog: its Call-ID and From-tag, the To-tag it got; our CSeq space from 1, versions contiguous.
      for (const n of notifies) {
        expect(n).toMatchObject({
          presentity: PRESENTITY_KEY,
          callId,
          remoteTag: fromTag,
          localTag: toTag,
          fromUri: PRESENTITY_URI,
          toUri: 'sip:watcher@example.com',
          requestUri: contact,
          event: 'presence',
          subscriptionState: 'active',
          contentType: 'application/pidf+xml',
        });
      }
      expect(notifies.map((n) => [n.cseq, n.version])).toEqual([
        [1, 1],
        [2, 2],
        [3, 3],
      ]);
      const [initial, onThePhone, registered] = notifies.map((n) => n.body!);

      // 1. Before the capture: nothing known — no tuple, no activity.
      expect(notifies[0]!.causeEventId).toBe(subscription.requestId);
      expect(initial).toContain(`entity="${PRESENTITY_URI}"`);
      expect(initial).not.toContain('<tuple');
      expect(initial).not.toContain('on-the-phone');
      // 2. The 200 to francisco's INVITE (frame 498): in a call; not registered yet, so no contact tuple.
      expect(onThePhone).toContain('<rpid:activities><rpid:on-the-phone/></rpid:activities>');
      expect(onThePhone).not.toContain('<tuple');
      // 3. The 200 to his REGISTER (frame 1727): basic open at the registered contact, still on the phone.
      expect(registered).toMatch(
        /<tuple id="reg-[0-9a-f]+">\s*<status><basic>open<\/basic><\/status>\s*<contact>sip:francisco@200\.57\.7\.204:5061<\/contact>/,
      );
      expect(registered).toContain('<rpid:on-the-phone/>');
      // The second INVITE (frames 2964-2967, ringing while in the call) changes nothing a watcher sees.

      const presence = await readTopic({ brokers: s.kafka.brokers, topic: topic('current-presence'), partitions: 4, count: 1, settleMs: 1000 });
      const latest = (await Promise.all(presence.map((m) => serde.decode('current-presence', m.value!)))).filter((p) => p.subscriber === PRESENTITY_KEY).at(-1);
      expect(latest).toMatchObject({ basic: 'open', callState: 'in-call', activities: 'on-the-phone', connectability: 'connectable' });
      expect(em!.stats.subscribes).toBe(1);
      expect(fe!.stats.recorded).toBe(1);

      // What the watcher received on the wire: exactly those three NOTIFYs, in CSeq order, in its dialog.
      const heard = await watcher.done;
      expect(heard, `watcher sipp exit ${heard.code}: ${heard.errors}`).toMatchObject({ code: 0 });
      const trace = parseSippMessageTrace(heard.messages!);
      const received = receivedRequests(trace, 'NOTIFY');
      expect(received.map((m) => headerOf(m, 'CSeq'))).toEqual(['1 NOTIFY', '2 NOTIFY', '3 NOTIFY']);
      const esc = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      for (const [i, m] of received.entries()) {
        expect(m.transport).toBe('UDP');
        expect(m.startLine).toBe(`NOTIFY ${contact} SIP/2.0`);
        expect(headerOf(m, 'Call-ID', 'i')).toBe(callId);
        // RFC 3261 §12.2.1.1: From = the notifier (the presentity) with our To-tag, To = the watcher with its From-tag.
        expect(headerOf(m, 'From', 'f')).toMatch(new RegExp(`^<${esc(PRESENTITY_URI)}>;tag=${toTag}$`));
        expect(headerOf(m, 'To', 't')).toMatch(new RegExp(`^<sip:watcher@example\\.com>;tag=${esc(fromTag)}$`));
        expect(headerOf(m, 'Event', 'o')).toBe('presence');
        // The remaining duration of the 3600 s subscription granted seconds before (RFC 6665 §4.2.2).
        const state = /^active;expires=(\d+)$/.exec(headerOf(m, 'Subscription-State') ?? '');
        expect(state, `Subscription-State: ${headerOf(m, 'Subscription-State')}`).not.toBeNull();
        expect(Number(state![1])).toBeGreaterThan(3600 - 300);
        expect(Number(state![1])).toBeLessThanOrEqual(3600);
        expect(headerOf(m, 'Content-Type', 'c')).toBe('application/pidf+xml');
        expect(Number(headerOf(m, 'Content-Length', 'l'))).toBe(Buffer.byteLength(m.body));
        expect(headerOf(m, 'Via', 'v')).toMatch(new RegExp(`^SIP/2\\.0/UDP 127\\.0\\.0\\.1:${sink!.port};branch=z9hG4bK`));
        expect(headerOf(m, 'Contact', 'm')).toBe(`<sip:127.0.0.1:${sink!.port}>`);
        // The PIDF the watcher got is the document the event manager rendered, byte for byte.
        expect(m.body).toBe(notifies[i]!.body);
      }
      // Expires values never grow along the dialog.
      const expires = received.map((m) => Number(/expires=(\d+)/.exec(headerOf(m, 'Subscription-State')!)![1]));
      expect([...expires].sort((a, b) => b - a)).toEqual(expires);
      // The PIDF facts, as received: nothing known; on the phone; then open at the registered contact, still on the phone.
      expect(received[0]!.body).toMatch(/<presence [^>]*entity="sip:francisco@bestel\.com"/);
      expect(received[0]!.body).not.toContain('<tuple');
      expect(received[1]!.body).toContain('<rpid:on-the-phone/>');
      expect(received[1]!.body).not.toContain('<basic>');
      expect(received[2]!.body).toMatch(/<basic>open<\/basic><\/status>\s*<contact>sip:francisco@200\.57\.7\.204:5061<\/contact>/);
      expect(received[2]!.body).toContain('<rpid:on-the-phone/>');
      // And SIPp answered each one 200 in the same transaction.
      const answers = trace.filter((m) => m.direction === 'sent');
      expect(new Set(answers.map((m) => `${m.startLine} | ${headerOf(m, 'CSeq')}`))).toEqual(
        new Set(['SIP/2.0 200 OK | 1 NOTIFY', 'SIP/2.0 200 OK | 2 NOTIFY', 'SIP/2.0 200 OK | 3 NOTIFY']),
      );

      // The sink's reports: each of the three delivered at the first attempt, in order, keyed by the presentity.
      const reportMsgs = await readTopic({
        brokers: s.kafka.brokers,
        topic: topic('delivery-reports'),
        partitions: 4,
        count: 3,
        timeoutMs: 30_000,
        settleMs: 1000,
      });
      expect(reportMsgs.every((m) => m.key?.toString() === PRESENTITY_KEY)).toBe(true);
      const reports = (await Promise.all(reportMsgs.map((m) => serde.decode('delivery-reports', m.value!)))).filter((r) => r.callId === callId);
      expect(reports.map((r) => [r.notifyId, r.outcome, r.statusCode, r.attempts])).toEqual(notifies.map((n) => [n.notifyId, 'delivered', 200, 1]));
      expect(sink!.deliverer.stats.byOutcome.delivered).toBe(3);
    } finally {
      watcher.kill();
    }
  }, 180_000);
});
