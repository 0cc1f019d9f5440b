// The three front-end modes on the real stack (Tekelec Fig 12, claims 7-10):
// two event managers on the default KIP-848 protocol, each with its own SIP
// contact, own different partitions; a redirect-mode front end answers 302
// naming the right one for presentities of each, a watcher following the
// redirect gets 200 from that event manager and a NOTIFY request appears on
// notify-requests; a proxy-mode front end returns the owner's 200 itself;
// locate names the owner from the member reports. Over TLS (RFC 5630 §3): em-a's
// front end also listens on TLS (`--sip-tls-port`) and its reports carry that
// sips: contact, so a TLS watcher is redirected there and followed over TLS;
// em-b has no TLS listener, so its TLS watchers stay on the redirect front end.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSipMessage, SipStreamFramer, type SipMessage } from '../../protocols/decode/sip/index.ts';
import { createTestCertificateAuthority } from '../../infra/local/testCertificates.ts';
import { startMemberFrontEnd, type MemberFrontEnd } from '../../front-end/memberFrontEnd.ts';
import { startSipFrontEnd, type SipFrontEnd } from '../../front-end/sipFrontEnd.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { locate } from '../../coordinator/locator.ts';
import { MemberReportsView } from '../../coordinator/memberReportsReader.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { partitionOf } from '../../kafka/partitioner.ts';
import { dropSchema } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { openSipUdpClient, type SipUdpClient } from '../support/sipUdpClient.ts';
import { readTopic } from '../support/topicReader.ts';
import { eventually } from '../support/wait.ts';

const HOST = '127.0.0.1';
const PARTITIONS = 4;
const s = isolatedSettings('redirect', PARTITIONS);
const rulesSchema = `it_redirect_${process.pid}`;
const ems: EventManager[] = [];
/** Each member's own SIP front end, as `run event-manager --sip-port 0` starts beside it. */
const memberSip: MemberFrontEnd[] = [];
const fronts: SipFrontEnd[] = [];
let watcher: SipUdpClient;
const certDir = mkdtempSync(path.join(tmpdir(), 'it-redirect-tls-'));
let ca: Buffer;
const tlsSockets: TLSSocket[] = [];

const port = () => watcher.port;
function subscribe(requestUri: string, presentity: string, callId: string, cseq: number, branch: string): Buffer {
  return Buffer.from(
    `SUBSCRIBE ${requestUri} SIP/2.0\r\nVia: SIP/2.0/UDP ${HOST}:${port()};branch=z9hG4bK${branch};rport\r\n` +
      `From: <sip:watcher@example.net>;tag=w-${callId}\r\nTo: <${presentity}>\r\nCall-ID: ${callId}\r\nCSeq: ${cseq} SUBSCRIBE\r\n` +
      `Contact: <sip:watcher@${HOST}:${port()}>\r\nMax-Forwards: 70\r\nEvent: presence\r\nExpires: 600\r\nAccept: application/pidf+xml\r\nContent-Length: 0\r\n\r\n`,
  );
}
async function send(bytes: Buffer, to: { port: number }): Promise<SipMessage> {
  await new Promise<void>((r, j) => watcher.socket.send(bytes, to.port, HOST, (e) => (e ? j(e) : r())));
  // Skip provisional responses, if any.
  for (;;) {
    const m = await watcher.next();
    if (m.isRequest || (m.status ?? 0) >= 200) return m;
  }
}
/** A SUBSCRIBE over a new TLS connection (the test CA trusted): its final response. */
async function overTls(tlsPort: number, requestUri: string, presentity: string, callId: string, cseq: number): Promise<SipMessage> {
  const socket = tlsConnect({ host: HOST, port: tlsPort, ca });
  tlsSockets.push(socket);
  const framer = new SipStreamFramer({ maxMessageBytes: 65_536 });
  const answers: SipMessage[] = [];
  socket.on('data', (chunk: Buffer) => {
    for (const raw of framer.push(chunk)) answers.push(parseSipMessage(raw));
  });
  await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  const local = socket.localPort!;
  socket.write(
    `SUBSCRIBE ${requestUri} SIP/2.0\r\nVia: SIP/2.0/TLS ${HOST}:${local};branch=z9hG4bK-${callId}-${cseq}\r\n` +
      `From: <sips:watcher@example.net>;tag=w-${callId}\r\nTo: <${presentity}>\r\nCall-ID: ${callId}\r\nCSeq: ${cseq} SUBSCRIBE\r\n` +
      `Contact: <sips:watcher@${HOST}:${local}>\r\nMax-Forwards: 70\r\nEvent: presence\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n`,
  );
  return eventually(`a final answer over TLS from port ${tlsPort}`, () => answers.find((m) => (m.status ?? 0) >= 200), { timeoutMs: 10_000, intervalMs: 20 });
}
const contactPort = (uri: string) => Number(/:(\d+)(;|$)/.exec(uri)?.[1]);

/** A presentity URI whose key lands on a partition the given member owns. */
function presentityOwnedBy(owned: number[]): { uri: string; key: string } {
  for (let i = 0; i < 1000; i++) {
    const key = `aor:sip:user${i}@example.com`;
    if (owned.includes(partitionOf(key, PARTITIONS))) return { uri: key.slice(4), key };
  }
  throw new Error(`no presentity on partitions ${owned}`);
}
const ownedPartitions = (em: EventManager) => [...new Set(em.processor.assignments().map((a) => a.partition))].sort();

beforeAll(async () => {
  await applyIsolated(s);
  watcher = await openSipUdpClient({ host: HOST, defaultTimeoutMs: 10_000 });
  const authority = await createTestCertificateAuthority(certDir);
  ca = readFileSync(authority.caFile);
  const pair = async (name: string) => {
    const c = await authority.issue(name, [HOST]);
    return { cert: readFileSync(c.certFile), key: readFileSync(c.keyFile) };
  };
  for (const id of ['em-a', 'em-b']) {
    // em-a as `run event-manager --sip-port 0 --sip-tls-port 0` starts it; em-b plain only.
    const tls = id === 'em-a' ? { ...(await pair(id)), port: 0 } : undefined;
    const sip = await startMemberFrontEnd(s, { memberId: id, port: 0, ...(tls ? { tls } : {}) });
    memberSip.push(sip);
    const contacts = { sipContact: sip.contact, ...(sip.sipsContact ? { sipsContact: sip.sipsContact } : {}) };
    ems.push(await startEventManager(s, { memberId: id, rulesSchema, membership: { ...contacts, reportIntervalMs: 1000 } }));
  }
  // Both members own partitions, together all of them, and their reports say so.
  await eventually(
    () => `the members to settle (em-a ${ems[0] && ownedPartitions(ems[0])}, em-b ${ems[1] && ownedPartitions(ems[1])})`,
    async () => {
      const [a, b] = ems.map(ownedPartitions);
      if (!(a!.length && b!.length && a!.length + b!.length === PARTITIONS)) return false;
      const view = await MemberReportsView.open(s);
      return Array.from({ length: PARTITIONS }, (_, p) => view.ownerOf(p)?.memberId === (a!.includes(p) ? 'em-a' : 'em-b')).every(Boolean);
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  fronts.push(
    await startSipFrontEnd(s, { port: 0, mode: 'redirect', frontEndId: 'fe-redirect', groups: false, tls: { ...(await pair('fe-redirect')), port: 0 } }),
  );
  fronts.push(await startSipFrontEnd(s, { port: 0, mode: 'proxy', frontEndId: 'fe-proxy', groups: false }));
}, 120_000);

afterAll(async () => {
  for (const so of tlsSockets) so.destroy();
  rmSync(certDir, { recursive: true, force: true });
  for (const f of fronts) await f.stop();
  for (const sip of memberSip) await sip.frontEnd.stop();
  for (const em of ems) await em.stop();
  await watcher?.close();
  await cleanupIsolated(s);
  await dropSchema(rulesSchema);
}, 60_000);

describe('front-end modes against two event managers (KIP-848)', () => {
  it('redirect: 302 to the owning event manager; following it gives 200 from that member and a NOTIFY request; locate names the owner', async () => {
    const [redirect] = fronts;
    const serde = new RecordSerde(s.registry.url, s.topics.prefix);
    await serde.loadIds();
    const callIds: string[] = [];
    for (const [i, em] of ems.entries()) {
      const memberId = i === 0 ? 'em-a' : 'em-b';
      const { uri, key } = presentityOwnedBy(ownedPartitions(em));
      const callId = `redirect-${memberId}-${Date.now()}`;
      callIds.push(callId);
      const moved = await send(subscribe(uri, uri, callId, 1, `${callId}-1`), redirect!);
      expect(moved.status).toBe(302);
      const target = moved.contacts[0]!.uri;
      expect(contactPort(target)).toBe(contactPort(em.membership.sipContact!));
      expect(target).toBe(`sip:${uri.slice(4, uri.indexOf('@'))}@${em.membership.sipContact!.slice(4)}`);

      // Follow it (RFC 3261 §8.1.3.4): same dialog identifiers, Request-URI from the Contact, To unchanged.
      const ok = await send(subscribe(target, uri, callId, 2, `${callId}-2`), { port: contactPort(target) });
      expect(ok.status).toBe(200);
      expect(ok.contacts[0]?.uri).toBe(em.membership.sipContact);
      expect(memberSip[i]!.frontEnd.stats.recorded).toBeGreaterThanOrEqual(1);

      const loc = await locate(s, uri);
      expect(loc).toMatchObject({ key, owner: { memberId, sipContact: em.membership.sipContact } });
    }
    const notifies = await readTopic({
      brokers: s.kafka.brokers,
      topic: topicName(s.topics.prefix, 'notify-requests'),
      partitions: PARTITIONS,
      count: 2,
      timeoutMs: 60_000,
      settleMs: 500,
    });
    const decoded = await Promise.all(notifies.map((m) => serde.decode('notify-requests', m.value!)));
    for (const callId of callIds) expect(decoded.find((n) => n.callId === callId)).toMatchObject({ subscriptionState: 'active', event: 'presence' });
    expect(redirect!.statsLine()).toContain('redirected 2');
  }, 120_000);

  it("proxy: the owning event manager's 200 comes back through the front end, the SUBSCRIBE reaches its member", async () => {
    const [, proxy] = fronts;
    for (const [i, em] of ems.entries()) {
      const { uri } = presentityOwnedBy(ownedPartitions(em));
      const before = memberSip[i]!.frontEnd.stats.recorded;
      const callId = `proxy-${i}-${Date.now()}`;
      const ok = await send(subscribe(uri, uri, callId, 1, `${callId}-1`), proxy!);
      expect(ok.status).toBe(200);
      expect(ok.vias).toHaveLength(1); // the proxy's own Via was removed
      expect(ok.contacts[0]?.uri).toBe(em.membership.sipContact); // refreshes go to the owner directly
      expect(memberSip[i]!.frontEnd.stats.recorded).toBe(before + 1);
    }
    expect(proxy!.statsLine()).toContain('proxied 2, relayedResponses 2');
  }, 60_000);

  it("redirect over TLS: 302 to the owner's sips: contact, followed over TLS to its member; an owner without one keeps TLS watchers here", async () => {
    const [redirect] = fronts;
    const [a, b] = ems;
    const [sipA] = memberSip;
    expect(sipA!.sipsContact).toBe(`sips:${HOST}:${sipA!.frontEnd.tlsPort}`);
    const { uri } = presentityOwnedBy(ownedPartitions(a!));
    const callId = `tls-redirect-a-${Date.now()}`;
    const moved = await overTls(redirect!.tlsPort, uri, uri, callId, 1);
    expect(moved.status).toBe(302);
    const target = moved.contacts[0]!.uri;
    expect(target).toBe(`sips:${uri.slice(4, uri.indexOf('@'))}@${HOST}:${sipA!.frontEnd.tlsPort}`);

    const before = sipA!.frontEnd.stats.recorded;
    const ok = await overTls(sipA!.frontEnd.tlsPort, target, uri, callId, 2);
    expect(ok.status).toBe(200);
    expect(ok.contacts[0]?.uri).toBe(sipA!.sipsContact);
    expect(sipA!.frontEnd.stats.recorded).toBe(before + 1);

    // em-b advertises no TLS contact: its presentity's TLS watcher is answered here, not sent to a plain hop.
    const other = presentityOwnedBy(ownedPartitions(b!)).uri;
    const kept = await overTls(redirect!.tlsPort, other, other, `tls-redirect-b-${Date.now()}`, 1);
    expect(kept.status).toBe(200);
    expect(kept.contacts[0]?.uri).toBe(`sip:${HOST}:${redirect!.tlsPort};transport=tls`); // a sip: URI over TLS (RFC 5630 §3.2)
    expect(redirect!.statsLine()).toMatch(/redirected 3, .*tlsKept 1/);
  }, 60_000);
});
