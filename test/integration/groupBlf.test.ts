// BLF on a resource list end to end (issue 20 item 3, RFC 4662 + RFC 4235): a
// Node watcher SUBSCRIBEs to a group URI with `Event: dialog` and
// `Supported: eventlist` through the SIP front end; a PBX PUBLISHes dialog-info
// for one member (early → confirmed → removed), as Kamailio's pua_dialoginfo
// does. The member's calls go event manager → current-presence (dialogs) →
// membership processor → group-member-presence → group presence processor,
// and the watcher's Contact (TCP: list NOTIFYs exceed the UDP limit) hears
// multipart/related NOTIFYs: RLMI first, one application/dialog-info+xml part
// per member whose calls are known — full state, then only what changed; the
// RLMI version contiguous per subscription, each member's dialog-info version
// contiguous per member.
import { existsSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNotifySink, type NotifySink } from '../../connectors/sinks/notify/notifySink.ts';
import { startSipFrontEnd, type SipFrontEnd } from '../../front-end/sipFrontEnd.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { parseDialogInfo, type DialogInfoDocument } from '../../presence-document/dialogInfo.ts';
import { parseMultipart } from '../../presence-document/multipart.ts';
import { parseRlmi } from '../../presence-document/rlmi.ts';
import { parseSipMessage, type SipMessage } from '../../protocols/decode/sip/index.ts';
import type { Group } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { startGroupPresence, type GroupPresenceService } from '../../streams/group-presence/index.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { openSipUdpClient, type SipUdpClient } from '../support/sipUdpClient.ts';
import { eventually } from '../support/wait.ts';
import { capture, haveCaptures, noCapturesReason } from '../support/captures.ts';
import { shiftedCapture } from '../support/shiftedCapture.ts';
import { pbxDialogPublish } from '../support/pbxPublish.ts';
import { runTap } from '../../taps/pipeline/tapPipeline.ts';

const HOST = '127.0.0.1';
const DIALOG_INFO = 'application/dialog-info+xml';
const base = isolatedSettings('group-blf', 4);
// The replayed capture's subscribers are in no directory: kept under their numbers, as in dialogWatcher.test.ts.
const s = { ...base, database: { ...base.database, url: testDatabaseUrl }, identity: { ...base.identity, unknownSubscribers: 'keep' as const } };
const rulesSchema = `it_group_blf_${process.pid}`;
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const run = `${Date.now().toString(36)}${process.pid}`;
const GROUP_ID = `blf-${run}`;
const GROUP_URI = `sip:blf-${run}@groups.example.net`;
const A = { subscriber: 'msisdn:+351910000071', uri: 'sip:+351910000071@ims.example.net;user=phone' };
const B = { subscriber: 'msisdn:+351910000072', uri: 'sip:+351910000072@ims.example.net;user=phone' };
/** The calling party of the replayed ISUP call (ss7/isup-call-m3ua-draft6.pcap: IAM → ACM → ANM → REL). */
const C = { subscriber: 'msisdn:+3933399708', uri: 'sip:+3933399708@ims.example.net;user=phone' };
const CAPTURE = 'ss7/isup-call-m3ua-draft6.pcap';
const HAVE_CAPTURE = haveCaptures && existsSync(capture(CAPTURE));
if (!HAVE_CAPTURE) console.warn(`group BLF: the replayed-call test is skipped: ${haveCaptures ? `${capture(CAPTURE)} is absent` : noCapturesReason}`);

/** The watcher's Contact on TCP: every NOTIFY parsed, answered 200, kept in arrival order. */
async function tcpWatcher(): Promise<{ port: number; notifies: SipMessage[]; close: () => Promise<void> }> {
  const notifies: SipMessage[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(buf.subarray(0, end).toString('latin1'))?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        const m = parseSipMessage(buf.subarray(0, end + 4 + length));
        buf = buf.subarray(end + 4 + length);
        notifies.push(m);
        const copy = ['via', 'from', 'to', 'call-id', 'cseq'].flatMap((h) => m.headers.list(h).map((v) => `${h}: ${v}`));
        sock.write(['SIP/2.0 200 OK', ...copy, 'Content-Length: 0', '', ''].join('\r\n'));
      }
    });
    sock.on('error', () => {});
    sock.on('close', () => sockets.delete(sock));
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  const close = async () => {
    for (const so of sockets) so.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return { port: (server.address() as net.AddressInfo).port, notifies, close };
}

/** A list NOTIFY: its RLMI and each member's dialog-info part by member URI. */
function decode(m: SipMessage) {
  const ct = m.headers.get('content-type')!;
  const boundary = /boundary="?([^";]+)"?/.exec(ct)![1]!;
  const parts = parseMultipart(m.body, boundary);
  const rlmi = parseRlmi(parts[0]!.body);
  const byCid = new Map(parts.slice(1).map((p) => [p.contentId, p]));
  const members: Record<string, { state: string; doc?: DialogInfoDocument }> = {};
  for (const r of rlmi.resources) {
    const i = r.instances[0]!;
    const part = i.cid ? byCid.get(i.cid) : undefined;
    if (part) expect(part.contentType).toBe(DIALOG_INFO);
    members[r.uri] = { state: i.state, ...(part ? { doc: parseDialogInfo(part.body) } : {}) };
  }
  return { ct, rlmi, members, types: parts.map((p) => p.contentType) };
}

/** A SUBSCRIBE to the group with Event: dialog from `client`, Contact on TCP at `contactPort`; each call the next CSeq. */
function subscriber(client: SipUdpClient, contactPort: number, callId: string): () => Promise<SipMessage> {
  let cseq = 0;
  return () => {
    cseq++;
    const text = [
      `SUBSCRIBE ${GROUP_URI} SIP/2.0`,
      `Via: SIP/2.0/UDP ${HOST}:${client.port};branch=z9hG4bK-${callId}-${cseq}`,
      'Max-Forwards: 70',
      `From: <sip:console@example.com>;tag=w${callId}`,
      `To: <${GROUP_URI}>`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} SUBSCRIBE`,
      `Contact: <sip:console@${HOST}:${contactPort};transport=tcp>`,
      'Event: dialog',
      `Accept: multipart/related, application/rlmi+xml, ${DIALOG_INFO}`,
      'Supported: eventlist',
      'Expires: 600',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    client.socket.send(text, fe!.port, HOST);
    return client.next();
  };
}

let fe: SipFrontEnd | undefined;
let em: EventManager | undefined;
let gp: GroupPresenceService | undefined;
let sink: NotifySink | undefined;
let producer: RecordProducer | undefined;

beforeAll(async () => {
  await applyIsolated(s);
  await serde.loadIds();
  producer = new RecordProducer(s.kafka.brokers, `it-group-blf-${run}`, 15_000);
  await producer.connect();
  const g: Group = {
    groupId: GROUP_ID,
    version: 1,
    uri: GROUP_URI,
    name: 'Lamps',
    attributes: {},
    members: [A, B, C].map((m) => ({ ...m, role: null, displayName: null, attributes: {}, share: true, sharedParts: [] })),
    adminPolicy: 'anyone',
    updatedAt: Date.now(),
  };
  await producer.send(topicName(s.topics.prefix, 'groups'), GROUP_ID, serde.encode('groups', g));
  em = await startEventManager(s, { memberId: `em-gblf-${run}`, rulesSchema });
  gp = await startGroupPresence(s, { memberId: `gp-gblf-${run}` });
  sink = await startNotifySink(s, { host: HOST, port: 0, drainMs: 1000 });
  fe = await startSipFrontEnd(s, { host: HOST, port: 0, frontEndId: 'fe-gblf', policy: { minExpires: 60, maxExpires: 7200, defaultExpires: 3600 } });
}, 180_000);

afterAll(async () => {
  await fe?.stop();
  await sink?.stop();
  await gp?.stop();
  await em?.stop();
  await producer?.close();
  await cleanupIsolated(s);
  await dropSchema(rulesSchema);
}, 120_000);

describe('BLF on a resource list: Event: dialog to a group URI', () => {
  it("the watcher sees a member's PBX call early, confirmed, gone, as RLMI NOTIFYs with dialog-info parts; versions contiguous per list and per member", async () => {
    const contact = await tcpWatcher();
    const watcher = await openSipUdpClient({ defaultTimeoutMs: 10_000 });
    const pbx = await openSipUdpClient({ defaultTimeoutMs: 10_000 });
    try {
      const subscribe = subscriber(watcher, contact.port, `gblf-${run}`);
      // The group was on the groups topic before the front end started, which reads it to its end first.
      const ok = await subscribe();
      expect(ok.status).toBe(200);
      expect(ok.headers.get('require')).toBe('eventlist');
      expect(ok.headers.get('allow-events')).toContain('dialog');

      // The first NOTIFY: full state, neither member's calls known yet (pending).
      await eventually('the full-state NOTIFY', () => contact.notifies.length >= 1 || undefined, { timeoutMs: 90_000, intervalMs: 300 });
      const full = decode(contact.notifies[0]!);
      expect(contact.notifies[0]!.headers.get('event')).toBe('dialog');
      expect(contact.notifies[0]!.headers.get('require')).toBe('eventlist');
      expect(full.ct).toMatch(/^multipart\/related;.*type="application\/rlmi\+xml"/);
      expect(full.rlmi).toMatchObject({ uri: GROUP_URI, version: 1, fullState: true });
      expect(Object.values(full.members).map((m) => m.state)).toEqual(['pending', 'pending', 'pending']);

      let pcseq = 0;
      const publish = async (o: { state?: string; ifMatch?: string; expires: number }) => {
        pcseq++;
        const text = pbxDialogPublish({
          presentity: A.uri,
          host: HOST,
          port: pbx.port,
          callId: `gpbx-${run}`,
          fromTag: `p${run}`,
          cseq: pcseq,
          pbxCallId: `pbx-call-${run}@pbx.example.com`,
          ...o,
        });
        pbx.socket.send(text, fe!.port, HOST);
        const r = await pbx.next();
        expect(r.status, `PUBLISH #${pcseq}`).toBe(200);
        return r.headers.get('sip-etag')!;
      };
      const heard = (n: number, what: string) => eventually(what, () => contact.notifies.length >= n || undefined, { timeoutMs: 90_000, intervalMs: 300 });
      // One PUBLISH at a time, each heard before the next: a batch may coalesce changes of one member.
      const etag = await publish({ state: 'early', expires: 600 });
      await heard(2, 'the NOTIFY of the ringing call');
      const etag2 = await publish({ state: 'confirmed', ifMatch: etag, expires: 600 });
      await heard(3, 'the NOTIFY of the answered call');
      await publish({ ifMatch: etag2, expires: 0 });
      await heard(4, 'the NOTIFY of the removed call');

      const docs = contact.notifies.map(decode);
      expect(contact.notifies.map((n) => n.headers.get('cseq'))).toEqual(['1 NOTIFY', '2 NOTIFY', '3 NOTIFY', '4 NOTIFY']);
      expect(docs.map((d) => [d.rlmi.version, d.rlmi.fullState])).toEqual([
        [1, true],
        [2, false],
        [3, false],
        [4, false],
      ]);
      // After the full state, each NOTIFY lists only member A, whose calls changed.
      for (const d of docs.slice(1)) expect(Object.keys(d.members)).toEqual([A.uri]);
      const a = docs.slice(1).map((d) => d.members[A.uri]!.doc!);
      // A's own dialog-info: full state the first time the watcher hears of it, then partial; gone → full again.
      expect(a.map((x) => [x.version, x.state, x.entity])).toEqual([
        [1, 'full', A.uri],
        [2, 'partial', A.uri],
        [3, 'full', A.uri],
      ]);
      expect(a.map((x) => x.dialogs.map((d) => [d.id, d.state, d.direction]))).toEqual([
        [['pub-pbx-1', 'early', 'recipient']],
        [['pub-pbx-1', 'confirmed', 'recipient']],
        [],
      ]);
      // The group path carries no identities: a list watcher is under no member's watcher rules.
      for (const n of contact.notifies) expect(n.body.toString()).not.toContain('sip:200@pbx.example.com');
      // B's lamp stays unknown: no NOTIFY for it after the full state.
      expect(docs.slice(1).some((d) => B.uri in d.members)).toBe(false);
    } finally {
      await watcher.close();
      await pbx.close();
      await contact.close();
    }
  }, 240_000);

  it.skipIf(!HAVE_CAPTURE)(
    "a member's GSM call only the taps saw (replayed ISUP): its lamp follows the call to terminated, its versions contiguous",
    async () => {
      const contact = await tcpWatcher();
      const watcher = await openSipUdpClient({ defaultTimeoutMs: 10_000 });
      try {
        const ok = await subscriber(watcher, contact.port, `gblf-isup-${run}`)();
        expect(ok.status).toBe(200);
        await eventually('the full-state NOTIFY', () => contact.notifies.length >= 1 || undefined, { timeoutMs: 90_000, intervalMs: 300 });
        expect(decode(contact.notifies[0]!).members[C.uri]).toMatchObject({ state: 'pending' });

        const sum = await runTap(s, [shiftedCapture(capture(CAPTURE), Date.now())], { tap: 'replay', speed: Infinity, unknown: 'keep' });
        expect(sum.events).toBeGreaterThanOrEqual(6);
        // A batch of the group processor may hold several of the call's changes: the watcher hears the newest, so
        // the states it hears are an ordered subset of the call's, ending in terminated.
        const lamp = () => contact.notifies.slice(1).flatMap((n) => (decode(n).members[C.uri]?.doc ? [decode(n).members[C.uri]!.doc!] : []));
        await eventually(
          () => `C's lamp to go off: ${JSON.stringify(lamp().map((d) => d.dialogs.map((x) => x.state)))}`,
          () => lamp().some((d) => d.dialogs.some((x) => x.state === 'terminated')) || undefined,
          { timeoutMs: 120_000, intervalMs: 500 },
        );
        const docs = lamp();
        expect(docs.map((d) => d.version)).toEqual(docs.map((_, i) => i + 1));
        expect(docs.map((d) => d.state)).toEqual(docs.map((_, i) => (i === 0 ? 'full' : 'partial')));
        const order = ['trying', 'early', 'confirmed', 'terminated'];
        const heard = docs.flatMap((d) => d.dialogs.map((x) => x.state));
        expect(heard.at(-1)).toBe('terminated');
        expect([...heard].sort((a, b) => order.indexOf(a) - order.indexOf(b))).toEqual(heard);
        // One call, one dialog id; it is the calling party's: initiator. No PBX saw it.
        expect(new Set(docs.flatMap((d) => d.dialogs.map((x) => x.id))).size).toBe(1);
        expect(docs.flatMap((d) => d.dialogs).every((x) => x.direction === 'initiator')).toBe(true);
        // RLMI versions contiguous over the whole dialog.
        expect(contact.notifies.map((n) => decode(n).rlmi.version)).toEqual(contact.notifies.map((_, i) => i + 1));
      } finally {
        await watcher.close();
        await contact.close();
      }
    },
    240_000,
  );
});
