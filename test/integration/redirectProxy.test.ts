// The three front-end modes on the real stack (Tekelec Fig 12, claims 7-10):
// two event managers on the default KIP-848 protocol, each with its own SIP
// contact, own different partitions; a redirect-mode front end answers 302
// naming the right one for presentities of each, a watcher following the
// redirect gets 200 from that event manager and a NOTIFY request appears on
// notify-requests; a proxy-mode front end returns the owner's 200 itself;
// locate names the owner from the member reports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SipMessage } from '../../protocols/decode/sip/index.ts';
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
  for (const id of ['em-a', 'em-b']) {
    const sip = await startMemberFrontEnd(s, { memberId: id, port: 0 });
    memberSip.push(sip);
    ems.push(await startEventManager(s, { memberId: id, rulesSchema, membership: { sipContact: sip.contact, reportIntervalMs: 1000 } }));
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
  fronts.push(await startSipFrontEnd(s, { port: 0, mode: 'redirect', frontEndId: 'fe-redirect', groups: false }));
  fronts.push(await startSipFrontEnd(s, { port: 0, mode: 'proxy', frontEndId: 'fe-proxy', groups: false }));
}, 120_000);

afterAll(async () => {
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
});
