// The SIP front end on the real broker, registry and database, with a real
// event manager: SIPp as a watcher's UAC SUBSCRIBEs to a presentity; the front
// end records the Subscription (before answering 200 with Expires and a
// To-tag), the event manager that owns the presentity picks it up and emits
// the immediate NOTIFY of the new dialog — same Call-ID, remote tag = SIPp's
// From-tag, local tag = the To-tag SIPp got. An unserved Event → 489, too short an
// Expires → 423 with Min-Expires, and neither is recorded.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sippAvailable, startSipp } from '../../tools/sipp/sipp.ts';
import { startSipFrontEnd, type SipFrontEnd } from '../../front-end/sipFrontEnd.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { readTopic } from '../support/topicReader.ts';
import { freeUdpPort as freeUdpPortOn } from '../support/ports.ts';
import { sippToTag } from '../support/sippToTag.ts';

const HOST = '127.0.0.1';
const HAVE_SIPP = sippAvailable();
if (!HAVE_SIPP) console.warn('sipp not found on PATH (Debian: apt-get install sip-tester): the SIPp parts of the SIP front-end test are skipped');

const base = isolatedSettings('sip-front', 4);
const dbUrl = testDatabaseUrl;
const s = { ...base, database: { ...base.database, url: dbUrl } };
const rulesSchema = `it_fe_rules_${process.pid}`;
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const topic = (n: Parameters<typeof topicName>[1]) => topicName(s.topics.prefix, n as never);

const PRESENTITY_URI = 'sip:+351910000042@ims.example.net;user=phone';
const PRESENTITY_KEY = 'msisdn:+351910000042';
const run = `${Date.now().toString(36)}${process.pid}`;

let fe: SipFrontEnd;
let em: EventManager;
const dirs: string[] = [];

const freeUdpPort = () => freeUdpPortOn(HOST);

/** A watcher's SUBSCRIBE to the presentity, and what SIPp must see in the answer. */
function scenario(o: { fromTag: string; event: string; expires: number; expect: number; checks: string; tagFile?: string }): string {
  const saveTag = o.tagFile ? `\n      <exec command="echo '[$totag]' > ${o.tagFile}"/>` : '';
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="front-end watcher">
  <send retrans="500"><![CDATA[

      SUBSCRIBE ${PRESENTITY_URI} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:watcher@example.com>;tag=${o.fromTag}
      To: <${PRESENTITY_URI}>
      Call-ID: [call_id]
      CSeq: 1 SUBSCRIBE
      Contact: <sip:watcher@[local_ip]:[local_port]>
      Max-Forwards: 70
      Event: ${o.event}
      Accept: application/pidf+xml
      Expires: ${o.expires}
      Content-Length: 0

    ]]></send>
  <recv response="${o.expect}">
    <action>${o.checks}${saveTag}
    </action>
  </recv>
  <Reference variables="${o.tagFile ? 'all,v1,totag' : 'v1'}"/>
</scenario>
`;
}

/** Runs one SIPp call; SIPp matches responses by Call-ID, so it builds it: `${callIdPrefix}-1`. */
async function sipp(xml: string, callIdPrefix: string): Promise<void> {
  const args = [`${HOST}:${fe.port}`, '-i', HOST, '-p', String(await freeUdpPort()), '-t', 'u1', '-m', '1', '-cid_str', `${callIdPrefix}-%u`];
  const p = startSipp({ scenario: xml, args, deadlineMs: 15_000 });
  const result = await p.done;
  expect(result, `sipp exit ${result.code}: ${result.errors}`).toMatchObject({ code: 0 });
}

beforeAll(async () => {
  await applyIsolated(s);
  await serde.loadIds();
  fe = await startSipFrontEnd(s, { host: HOST, port: 0, frontEndId: 'fe-it', policy: { minExpires: 60, maxExpires: 7200, defaultExpires: 3600 } });
  em = await startEventManager(s, { memberId: 'em-fe-1', rulesSchema });
});

afterAll(async () => {
  await fe?.stop();
  await em?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await cleanupIsolated(s);
  await dropSchema(rulesSchema);
});

describe('SIP front end → subscriptions → event manager → NOTIFY', () => {
  it.skipIf(!HAVE_SIPP)(
    'SIPp SUBSCRIBE gets 200 (Expires 600, To-tag); the owning event manager emits the immediate NOTIFY of that dialog',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'fe-it-'));
      dirs.push(dir);
      const tagFile = join(dir, 'totag');
      const callIdPrefix = `fe-it-${run}`;
      const callId = `${callIdPrefix}-1`;
      const fromTag = `w${run}`;
      await sipp(
        scenario({
          fromTag,
          event: 'presence',
          expires: 600,
          expect: 200,
          tagFile,
          checks: `
      <ereg regexp="^ *600 *$" search_in="hdr" header="Expires:" check_it="true" assign_to="v1"/>
      <ereg regexp=";tag=([^;>]+)" search_in="hdr" header="To:" check_it="true" assign_to="all,totag"/>`,
        }),
        callIdPrefix,
      );
      const toTag = await sippToTag(tagFile);
      expect(toTag).toMatch(/^[0-9a-f]{16}$/);

      // The record the front end made, keyed by the presentity.
      const subs = await readTopic({ brokers: s.kafka.brokers, topic: topic('subscriptions'), partitions: 4, count: 1, timeoutMs: 30_000 });
      expect(subs).toHaveLength(1);
      expect(subs[0]!.key?.toString()).toBe(PRESENTITY_KEY);
      expect(await serde.decode('subscriptions', subs[0]!.value!)).toMatchObject({
        presentity: PRESENTITY_KEY,
        presentityUri: PRESENTITY_URI,
        watcherUri: 'sip:watcher@example.com',
        event: 'presence',
        expires: 600,
        callId,
        watcherTag: fromTag,
        cseq: 1,
        frontEnd: 'fe-it',
        localTag: toTag,
        accept: ['application/pidf+xml'],
      });

      // The event manager's immediate NOTIFY for the new dialog.
      const got = await readTopic({ brokers: s.kafka.brokers, topic: topic('notify-requests'), partitions: 4, count: 1, timeoutMs: 60_000, settleMs: 1000 });
      const notifies = await Promise.all(got.map((m) => serde.decode('notify-requests', m.value!)));
      const mine = notifies.filter((n) => n.callId === callId);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({
        presentity: PRESENTITY_KEY,
        event: 'presence',
        callId,
        remoteTag: fromTag,
        localTag: toTag,
        subscriptionState: 'active',
        version: 1,
        cseq: 1,
        fromUri: PRESENTITY_URI,
        toUri: 'sip:watcher@example.com',
        contentType: 'application/pidf+xml',
      });
      expect(mine[0]!.requestUri).toMatch(/^sip:watcher@127\.0\.0\.1:\d+$/);
      expect(em.stats.subscribes).toBe(1);
    },
    100_000,
  );

  it.skipIf(!HAVE_SIPP)(
    'Event: dialog.winfo (a package we do not serve) gets 489 with Allow-Events; Expires: 10 gets 423 with Min-Expires; neither is recorded',
    async () => {
      const before = fe.stats.recorded;
      await sipp(
        scenario({
          fromTag: 'w489',
          event: 'dialog.winfo',
          expires: 600,
          expect: 489,
          checks: `
      <ereg regexp="^ *presence, dialog, presence.winfo, message-summary, message *$" search_in="hdr" header="Allow-Events:" check_it="true" assign_to="v1"/>`,
        }),
        `fe-it-489-${run}`,
      );
      await sipp(
        scenario({
          fromTag: 'w423',
          event: 'presence',
          expires: 10,
          expect: 423,
          checks: `
      <ereg regexp="^ *60 *$" search_in="hdr" header="Min-Expires:" check_it="true" assign_to="v1"/>`,
        }),
        `fe-it-423-${run}`,
      );
      expect(fe.stats.recorded).toBe(before);
      expect(fe.stats.responses[489]).toBe(1);
      expect(fe.stats.responses[423]).toBe(1);
      const subs = await readTopic({ brokers: s.kafka.brokers, topic: topic('subscriptions'), partitions: 4, count: 0, timeoutMs: 10_000, settleMs: 1500 });
      const callIds = await Promise.all(subs.map(async (m) => (await serde.decode('subscriptions', m.value!)).callId));
      expect(callIds.filter((c) => c.includes('-489-') || c.includes('-423-'))).toEqual([]);
    },
    60_000,
  );
});
