// A blocked watcher that changes its From (issue 13: "a watcher blocked by a
// rule SUBSCRIBEs again with another From … 200 and an active NOTIFY with the
// full PIDF"), end to end: real front ends, Kafka, a real event manager and
// its watcher rules in PostgreSQL. Carol allows her friend and blocks a
// spammer. On a front end without authentication the spammer writing the
// friend's From is taken for the friend (active, with her document): what the
// issue found. With digest authentication (PRESENCE_SIP_AUTH=digest) the
// watcher is who authenticated, so the same request is judged as the
// spammer's: its only NOTIFY is terminated;reason=rejected, without a body.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSipFrontEnd, type SipFrontEnd } from '../../front-end/sipFrontEnd.ts';
import type { SipMessage } from '../../protocols/decode/sip/index.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import type { NotifyRequest } from '../../schemas/generated/records.ts';
import { WatcherRules } from '../../streams/event-manager/authorization/watcherRules.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { SipCredentials } from '../../subscriber/credentials/sipCredentials.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { digestAuthorization } from '../support/digestAnswer.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { openSipUdpClient, type SipUdpClient } from '../support/sipUdpClient.ts';
import { readTopic } from '../support/topicReader.ts';

const HOST = '127.0.0.1';
const REALM = 'spoof.test';
const run = `${Date.now().toString(36)}${process.pid}`;
const CAROL = `sip:carol-${run}@example.com`;
const FRIEND = `sip:friend-${run}@example.com`;
const SPAMMER = `sip:spammer-${run}@example.com`;
const SPAMMER_USER = `spammer-${run}`;
const PARTITIONS = 2;
const base = isolatedSettings('spoofed-from', PARTITIONS);
const s = { ...base, database: { ...base.database, url: testDatabaseUrl } };
const withDigest = {
  ...s,
  frontEnd: { ...s.frontEnd, auth: { ...s.frontEnd.auth, mode: 'digest' as const, realm: REALM, nonceSecret: `spoof-${run}`, trustedProxies: [] } },
};
const rulesSchema = `it_spoofed_from_${process.pid}`;
const credentials = new SipCredentials(testDatabaseUrl);
let em: EventManager | undefined;
let open: SipFrontEnd | undefined;
let guarded: SipFrontEnd | undefined;
let ua: SipUdpClient | undefined;

function subscribe(callId: string, cseq: number, extra: string[] = []): Buffer {
  return Buffer.from(
    [
      `SUBSCRIBE ${CAROL} SIP/2.0`,
      `Via: SIP/2.0/UDP ${HOST}:${ua!.port};branch=z9hG4bK-${callId}-${cseq};rport`,
      `From: <${FRIEND}>;tag=spoof-${callId}`, // the spammer writes the friend's From
      `To: <${CAROL}>`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} SUBSCRIBE`,
      `Contact: <sip:w@${HOST}:${ua!.port}>`,
      'Max-Forwards: 70',
      'Event: presence',
      'Expires: 600',
      'Accept: application/pidf+xml',
      ...extra,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
}

async function answer(bytes: Buffer, fe: SipFrontEnd): Promise<SipMessage> {
  ua!.socket.send(bytes, fe.port, HOST);
  for (;;) {
    const m = await ua!.next(10_000);
    if (!m.isRequest && (m.status ?? 0) >= 200) return m;
  }
}

async function notifiesOf(callId: string, count: number): Promise<NotifyRequest[]> {
  const serde = new RecordSerde(s.registry.url, s.topics.prefix);
  await serde.loadIds();
  const all = await readTopic({
    brokers: s.kafka.brokers,
    topic: topicName(s.topics.prefix, 'notify-requests'),
    partitions: PARTITIONS,
    count,
    timeoutMs: 60_000,
    settleMs: 1500,
  });
  return (await Promise.all(all.map((m) => serde.decode('notify-requests', m.value!)))).filter((n) => n.callId === callId);
}

beforeAll(async () => {
  await applyIsolated(s);
  const rules = new WatcherRules(s.database.url, 'allow', rulesSchema, 0);
  await rules.migrate();
  await rules.set(`aor:${CAROL}`, FRIEND, 'allow');
  await rules.set(`aor:${CAROL}`, SPAMMER, 'block');
  await rules.close();
  await credentials.migrate();
  await credentials.set(SPAMMER_USER, REALM, SPAMMER, 'spam-password');
  em = await startEventManager(s, { memberId: `em-spoof-${run}`, rulesSchema });
  open = await startSipFrontEnd(s, { host: HOST, port: 0, frontEndId: `fe-open-${run}`, groups: false });
  guarded = await startSipFrontEnd(withDigest, { host: HOST, port: 0, frontEndId: `fe-digest-${run}`, groups: false });
  ua = await openSipUdpClient({ host: HOST });
}, 120_000);

afterAll(async () => {
  await ua?.close();
  await guarded?.stop();
  await open?.stop();
  await em?.stop();
  await credentials.remove(SPAMMER_USER, REALM).catch(() => false);
  await credentials.close();
  await cleanupIsolated(s);
  await dropSchema(rulesSchema);
}, 60_000);

describe('a blocked watcher writing another From', () => {
  it('without authentication is taken for whom its From names (the attack the issue found)', async () => {
    const callId = `spoof-open-${run}`;
    expect((await answer(subscribe(callId, 1), open!)).status).toBe(200);
    const [first] = await notifiesOf(callId, 1);
    expect(first).toMatchObject({ subscriptionState: 'active' });
  }, 90_000);

  it('with digest authentication is judged as who authenticated: rejected, no document', async () => {
    const callId = `spoof-digest-${run}`;
    const challenge = await answer(subscribe(callId, 1), guarded!);
    expect(challenge.status).toBe(401);
    const auth = digestAuthorization(challenge.headers.getAll('www-authenticate')[0]!, {
      username: SPAMMER_USER,
      password: 'spam-password',
      method: 'SUBSCRIBE',
      uri: CAROL,
    });
    expect((await answer(subscribe(callId, 2, [auth]), guarded!)).status).toBe(200);
    const mine = await notifiesOf(callId, 2);
    expect(mine.map((n) => [n.subscriptionState, n.reason, n.body])).toEqual([['terminated', 'rejected', null]]);
  }, 90_000);
});
