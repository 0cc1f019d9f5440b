// Group watchers on the real broker, registry and database:
//  - the SIP front end learns group URIs from the compacted groups topic and
//    turns a SIPp watcher's SUBSCRIBE to one into a Subscription on
//    group-subscriptions keyed by the group id (presentity group:<id>); no
//    `Supported: eventlist` → 421 + Require; an outsider of a members-only
//    group → 403; neither is recorded;
//  - the notify sink sends a group dialog's NOTIFY with Require: eventlist and
//    reports its outcome on group-delivery-reports keyed by the group id;
//  - the group presence table sink keeps PostgreSQL group_presence from the
//    group-presence topic (newer versions win, tombstones delete) and
//    GET /groups/{id}/presence answers per requester (200/403/404/400);
//  - end to end (below): group service API → groups → group presence processor
//    → notify sink → SIPp watchers, with member presence from current-presence
//    records and from a replayed capture through a real event manager.
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Settings } from '../../config/settings.ts';
import { startGroupService, type GroupService } from '../../services/group-service/groupService.ts';
import { GroupsReader, GroupTable } from '../../front-end/groupRoutes.ts';
import { startSipFrontEnd, type SipFrontEnd } from '../../front-end/sipFrontEnd.ts';
import { receiveNotify, scenarioXml, subscribeRequest } from '../../tools/sipp/scenarios.ts';
import { sippAvailable, startSipp } from '../../tools/sipp/sipp.ts';
import { startGroupPresenceApi } from '../../connectors/sinks/group-presence/groupPresenceApi.ts';
import { GroupPresenceSink } from '../../connectors/sinks/group-presence/groupPresenceSink.ts';
import { GroupPresenceTable } from '../../connectors/sinks/group-presence/groupPresenceTable.ts';
import { startNotifySink, type NotifySink } from '../../connectors/sinks/notify/notifySink.ts';
import type { DeliveryReport, Group, GroupPresence, NotifyRequest, Presence } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import type { TopicName } from '../../schemas/topology.ts';
import { replayCaptures } from '../../taps/replay/replayCaptures.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { startGroupPresence, type GroupPresenceService } from '../../streams/group-presence/index.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { capture, haveCaptures, noCapturesReason } from '../support/captures.ts';
import { dropSchema, testDatabaseUrl, testSchema } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { freeUdpPort as freeUdpPortOn } from '../support/ports.ts';
import { readTopic } from '../support/topicReader.ts';
import { eventually, sleep } from '../support/wait.ts';

const HOST = '127.0.0.1';
const HAVE_SIPP = sippAvailable();
if (!HAVE_SIPP) console.warn('sipp not found on PATH (Debian: apt-get install sip-tester): the SIPp parts of the group watcher test are skipped');
if (!haveCaptures) console.warn(`${noCapturesReason}: the end-to-end group watcher test is skipped`);

const base = isolatedSettings('group-watchers', 4);
const s = { ...base, database: { ...base.database, url: testDatabaseUrl } };
const tableSchema = testSchema('group_presence');
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const topic = (n: TopicName) => topicName(s.topics.prefix, n);
const run = `${Date.now().toString(36)}${process.pid}`;
const freeUdpPort = () => freeUdpPortOn(HOST);
const GROUP_PARTITIONS = 6;

const ALICE = { subscriber: 'msisdn:+351910000001', uri: 'sip:+351910000001@ims.example.net;user=phone' };
const BOB = { subscriber: 'aor:sip:bob@example.com', uri: 'sip:bob@example.com' };
const CAROL = { subscriber: 'aor:sip:carol@example.com', uri: 'sip:carol@example.com' };

function group(
  groupId: string,
  uri: string,
  version: number,
  members: Array<{ subscriber: string; uri: string; role?: string }>,
  over: Partial<Group> = {},
): Group {
  return {
    groupId,
    version,
    uri,
    name: groupId,
    attributes: {},
    adminPolicy: 'members-only',
    updatedAt: Date.now(),
    members: members.map((m) => ({
      subscriber: m.subscriber,
      uri: m.uri,
      role: m.role ?? 'member',
      displayName: null,
      attributes: {},
      share: true,
      sharedParts: [],
    })),
    ...over,
  } as Group;
}

let producer: RecordProducer;

/** Creates an isolated stack's topics, registers its schemas and connects a producer to it. */
async function openIsolated(st: Settings, stSerde: RecordSerde, clientId: string): Promise<RecordProducer> {
  await applyIsolated(st);
  await stSerde.loadIds();
  const p = new RecordProducer(st.kafka.brokers, clientId, 15_000);
  await p.connect();
  return p;
}

async function produceGroup(g: Group): Promise<void> {
  await producer.send(topic('groups'), g.groupId, serde.encode('groups', g));
}

beforeAll(async () => {
  producer = await openIsolated(s, serde, `it-group-watchers-${run}`);
});

afterAll(async () => {
  await producer?.close();
  await cleanupIsolated(s);
  await dropSchema(tableSchema);
});

describe("groups reader (the front end's in-memory copy of the groups topic)", () => {
  it('reads every partition to its end before start() resolves, then follows updates and tombstones', async () => {
    const id = `reader-${run}`;
    await produceGroup(group(id, `sip:reader-${run}@groups.example.net`, 1, [ALICE]));
    await produceGroup(group(id, `sip:reader-${run}@groups.example.net`, 2, [ALICE, BOB]));
    const reader = await GroupsReader.start(s, new GroupTable({ countryCode: '351' }), serde, { catchUpTimeoutMs: 20_000 });
    try {
      // Already there when start() resolved: no waiting.
      expect(reader.table.byUri(`sip:reader-${run}@groups.example.net`)?.version).toBe(2);
      // A new URI and a deleted group, seen as they come.
      await produceGroup(group(id, `sip:renamed-${run}@groups.example.net`, 3, [ALICE, BOB]));
      await eventually('the renamed group', () => reader.table.byUri(`sip:renamed-${run}@groups.example.net`), { timeoutMs: 20_000, intervalMs: 200 });
      expect(reader.table.byUri(`sip:reader-${run}@groups.example.net`)).toBeUndefined();
      await producer.send(topic('groups'), id, null);
      await eventually('the tombstone', () => reader.table.get(id) === undefined, { timeoutMs: 20_000, intervalMs: 200 });
      expect(reader.stats.tombstones).toBe(1);
    } finally {
      await reader.stop();
    }
  }, 60_000);
});

/** A watcher's SUBSCRIBE to a group URI, and what SIPp must see in the answer. */
function subscribeScenario(o: { groupUri: string; from: string; fromTag: string; supported: boolean; expect: number; checks: string }): string {
  const subscribe = subscribeRequest({
    uri: o.groupUri,
    from: o.from,
    fromTag: o.fromTag,
    accept: 'application/pidf+xml, application/rlmi+xml, multipart/related',
    supported: o.supported ? 'eventlist' : undefined,
    expires: 600,
  });
  const answered = `
  <recv response="${o.expect}">${
    o.checks
      ? `
    <action>${o.checks}
    </action>`
      : ''
  }
  </recv>`;
  return scenarioXml('group watcher', subscribe + answered, o.checks ? ['v1'] : []);
}

describe('SIP front end: SUBSCRIBE to a group URI', () => {
  let fe: SipFrontEnd;
  const groupId = `fe-${run}`;
  const groupUri = `sip:team-${run}@groups.example.net`;

  beforeAll(async () => {
    await produceGroup(group(groupId, groupUri, 1, [ALICE, BOB]));
    fe = await startSipFrontEnd(s, { host: HOST, port: 0, frontEndId: 'fe-group-it' });
  });
  afterAll(async () => {
    await fe?.stop();
  });

  async function sipp(xml: string, callIdPrefix: string): Promise<void> {
    const args = [`${HOST}:${fe.port}`, '-i', HOST, '-p', String(await freeUdpPort()), '-t', 'u1', '-m', '1', '-cid_str', `${callIdPrefix}-%u`];
    const result = await startSipp({ scenario: xml, args, deadlineMs: 15_000 }).done;
    expect(result, `sipp exit ${result.code}: ${result.errors}`).toMatchObject({ code: 0 });
  }

  it.skipIf(!HAVE_SIPP)(
    'a member with Supported: eventlist gets 200 and a Subscription keyed by the group id on group-subscriptions; nothing on subscriptions',
    async () => {
      const callIdPrefix = `grp-ok-${run}`;
      await sipp(
        subscribeScenario({
          groupUri,
          from: BOB.uri,
          fromTag: `b${run}`,
          supported: true,
          expect: 200,
          checks: `
      <ereg regexp="^ *600 *$" search_in="hdr" header="Expires:" check_it="true" assign_to="v1"/>
      <ereg regexp="eventlist" search_in="hdr" header="Require:" check_it="true" assign_to="v1"/>`,
        }),
        callIdPrefix,
      );
      const got = await readTopic({
        brokers: s.kafka.brokers,
        topic: topic('group-subscriptions'),
        partitions: GROUP_PARTITIONS,
        count: 1,
        timeoutMs: 30_000,
        settleMs: 500,
      });
      expect(got).toHaveLength(1);
      expect(got[0]!.key?.toString()).toBe(groupId);
      expect(await serde.decode('group-subscriptions', got[0]!.value!)).toMatchObject({
        presentity: `group:${groupId}`,
        presentityUri: groupUri,
        watcherUri: BOB.uri,
        expires: 600,
        callId: `${callIdPrefix}-1`,
        watcherTag: `b${run}`,
        supported: ['eventlist'],
        frontEnd: 'fe-group-it',
      });
      const plain = await readTopic({ brokers: s.kafka.brokers, topic: topic('subscriptions'), partitions: 4, count: 0, timeoutMs: 10_000, settleMs: 1000 });
      expect(plain).toHaveLength(0);
    },
    60_000,
  );

  it.skipIf(!HAVE_SIPP)(
    'no Supported: eventlist → 421 with Require: eventlist; an outsider of a members-only group → 403; neither recorded',
    async () => {
      const before = fe.stats.recorded;
      await sipp(
        subscribeScenario({
          groupUri,
          from: BOB.uri,
          fromTag: `n${run}`,
          supported: false,
          expect: 421,
          checks: `
      <ereg regexp="eventlist" search_in="hdr" header="Require:" check_it="true" assign_to="v1"/>`,
        }),
        `grp-421-${run}`,
      );
      await sipp(subscribeScenario({ groupUri, from: 'sip:eve@example.com', fromTag: `e${run}`, supported: true, expect: 403, checks: '' }), `grp-403-${run}`);
      expect(fe.stats.recorded).toBe(before);
      expect(fe.stats.responses[421]).toBe(1);
      expect(fe.stats.responses[403]).toBe(1);
    },
    60_000,
  );
});

describe('notify sink: reports of group dialogs', () => {
  let sink: NotifySink;
  beforeAll(async () => {
    sink = await startNotifySink(s, { host: HOST, port: 0, t1Ms: 50, retry: { maxAttempts: 2, backoffBaseMs: 200, backoffMaxMs: 1000 }, drainMs: 1000 });
  });
  afterAll(async () => {
    await sink?.stop();
  });

  it.skipIf(!HAVE_SIPP)(
    'a group NOTIFY carries Require: eventlist; its 481 is reported gone on group-delivery-reports keyed by the group id, not on delivery-reports',
    async () => {
      const port = await freeUdpPort();
      const uas = scenarioXml(
        'gone group watcher',
        receiveNotify(
          [
            '<ereg regexp="^ *eventlist *$" search_in="hdr" header="Require:" check_it="true" assign_to="rq"/>',
            '<ereg regexp="multipart/related" search_in="hdr" header="Content-Type:" check_it="true" assign_to="ct"/>',
          ],
          { crlf: true, status: '481 Call/Transaction Does Not Exist' },
        ),
        ['rq', 'ct'],
      );
      const sipp = startSipp({ scenario: uas, args: ['-i', HOST, '-p', String(port), '-t', 'u1', '-m', '1'], deadlineMs: 30_000 });
      try {
        const groupId = `rep-${run}`;
        const callId = `grp-gone-${run}@${HOST}`;
        const n: NotifyRequest = {
          contactVerified: true,
          notifyId: `gone-${run}`,
          presentity: `group:${groupId}`,
          event: 'presence',
          callId,
          localTag: 'gp-1',
          remoteTag: 'w-1',
          cseq: 2,
          requestUri: `sip:watcher@${HOST}:${port}`,
          fromUri: `sip:team@groups.example.net`,
          toUri: 'sip:bob@example.com',
          routeSet: [],
          subscriptionState: 'active',
          expires: 300,
          reason: null,
          version: 1,
          contentType: 'multipart/related;type="application/rlmi+xml";boundary="b1"',
          body: '--b1\r\nContent-Type: application/rlmi+xml\r\n\r\n<list/>\r\n--b1--\r\n',
          causeEventId: null,
          createdAt: Date.now(),
        };
        await producer.send(topic('notify-requests'), n.presentity, serde.encode('notify-requests', n));
        const result = await sipp.done;
        expect(result, `sipp exit ${result.code}: ${result.errors}`).toMatchObject({ code: 0 });
        const reports = await readTopic({
          brokers: s.kafka.brokers,
          topic: topic('group-delivery-reports'),
          partitions: GROUP_PARTITIONS,
          count: 1,
          timeoutMs: 20_000,
          settleMs: 500,
        });
        expect(reports).toHaveLength(1);
        expect(reports[0]!.key?.toString()).toBe(groupId);
        expect(await serde.decode('group-delivery-reports', reports[0]!.value!)).toMatchObject({
          notifyId: `gone-${run}`,
          presentity: `group:${groupId}`,
          callId,
          outcome: 'gone',
          statusCode: 481,
          attempts: 1,
        });
        const plain = await readTopic({
          brokers: s.kafka.brokers,
          topic: topic('delivery-reports'),
          partitions: 4,
          count: 0,
          timeoutMs: 10_000,
          settleMs: 1000,
        });
        expect(plain).toHaveLength(0);
      } finally {
        sipp.kill();
      }
    },
    60_000,
  );
});

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: HOST, port, path, headers }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

describe('group presence table and GET /groups/{id}/presence', () => {
  let table: GroupPresenceTable;
  let sink: GroupPresenceSink;
  let server: http.Server;
  let port: number;
  const pidf = (entity: string, basic: string) =>
    `<?xml version="1.0" encoding="UTF-8"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="${entity}"><tuple id="t1"><status><basic>${basic}</basic></status></tuple></presence>`;
  function gp(groupId: string, version: number, over: Partial<GroupPresence> = {}): GroupPresence {
    return {
      groupId,
      version,
      memberCount: 3,
      availableCount: 2,
      contentType: 'multipart/related',
      document: `doc v${version}`,
      updatedAt: 1_700_000_000_000 + version,
      uri: `sip:${groupId}@groups.example.net`,
      name: groupId,
      adminPolicy: 'members-only',
      groupInfo: '<group-info/>',
      members: [
        {
          ...ALICE,
          role: 'dispatcher',
          displayName: 'Alice',
          attributes: { 'receive-roles': 'same' },
          share: true,
          sharedParts: [],
          basic: 'open',
          pidf: pidf(ALICE.uri, 'open'),
        },
        {
          ...BOB,
          role: 'driver',
          displayName: 'Bob',
          attributes: {},
          share: true,
          sharedParts: [],
          basic: version > 1 ? 'closed' : 'open',
          pidf: pidf(BOB.uri, version > 1 ? 'closed' : 'open'),
        },
        { ...CAROL, role: 'dispatcher', displayName: 'Carol', attributes: {}, share: false, sharedParts: [], basic: null, pidf: null },
      ],
      ...over,
    };
  }

  beforeAll(async () => {
    table = new GroupPresenceTable(testDatabaseUrl, tableSchema);
    sink = await GroupPresenceSink.start(s, table, { groupId: `${s.topics.prefix}gp-sink-it` });
    server = await startGroupPresenceApi({ table, plan: { countryCode: '351' } }, 0, HOST);
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await sink?.stop();
    await table?.close();
  });

  it('keeps the newest version of each group (a repeated older version does not win), deletes on a tombstone', async () => {
    const a = `tbl-a-${run}`;
    const b = `tbl-b-${run}`;
    for (const v of [gp(a, 1), gp(a, 2), gp(a, 1), gp(b, 1)]) await producer.send(topic('group-presence'), v.groupId, serde.encode('group-presence', v));
    await eventually('group b stored', () => table.get(b), { timeoutMs: 20_000, intervalMs: 200 });
    const stored = await eventually(
      'group a at version 2 after the repeat of 1',
      async () => {
        const r = await table.get(a);
        return sink.stats.consumed >= 4 ? r : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(stored).toMatchObject({ groupId: a, version: 2, document: 'doc v2', adminPolicy: 'members-only', uri: `sip:${a}@groups.example.net` });
    expect(stored.members.map((m) => [m.uri, m.basic])).toEqual([
      [ALICE.uri, 'open'],
      [BOB.uri, 'closed'],
      [CAROL.uri, null],
    ]);
    expect(sink.stats.stale).toBeGreaterThanOrEqual(1);
    await producer.send(topic('group-presence'), b, null);
    await eventually('group b deleted', async () => (await table.get(b)) === undefined, { timeoutMs: 20_000, intervalMs: 200 });
  }, 60_000);

  it('GET answers per requester: role filter, refusing member, multipart body, 403 outsider, 404 unknown, 400 bad input, 405', async () => {
    const a = `tbl-a-${run}`;
    // Alice receives only her own role (receive-roles=same): herself and Carol, who refuses (terminated, no presence).
    const alice = await get(port, `/groups/${a}/presence?watcher=${encodeURIComponent('tel:+351910000001')}`);
    expect(alice.status).toBe(200);
    expect(alice.headers.etag).toBe('"2"');
    const aj = JSON.parse(alice.body);
    expect(aj).toMatchObject({ groupId: a, version: 2, requester: { member: true, role: 'dispatcher' } });
    expect(aj.members.map((m: { uri: string; state: string }) => [m.uri, m.state])).toEqual([
      [ALICE.uri, 'active'],
      [CAROL.uri, 'terminated'],
    ]);
    // Bob (no receiving policy) sees all three; by header, as multipart/related.
    const bob = await get(port, `/groups/${a}/presence`, { 'x-presence-watcher': BOB.uri, accept: 'multipart/related' });
    expect(bob.status).toBe(200);
    expect(bob.headers['content-type']).toMatch(/^multipart\/related;type="application\/rlmi\+xml"/);
    expect(bob.body).toContain(`entity="${BOB.uri}"`);
    expect(bob.body).toContain(`entity="${ALICE.uri}"`);
    expect(bob.body).not.toContain(`entity="${CAROL.uri}"`);
    expect((await get(port, `/groups/${a}/presence?watcher=sip:eve@example.com`)).status).toBe(403);
    expect((await get(port, `/groups/nope-${run}/presence?watcher=${BOB.uri}`)).status).toBe(404);
    expect((await get(port, `/groups/${a}/presence`)).status).toBe(400);
    expect((await get(port, `/groups/${a}/presence?watcher=mailto:bob@example.com`)).status).toBe(400);
    expect((await get(port, `/groups/${encodeURIComponent('bad id!')}/presence?watcher=${BOB.uri}`)).status).toBe(400);
    const post = await new Promise<number>((resolve, reject) =>
      http
        .request({ host: HOST, port, path: `/groups/${a}/presence`, method: 'POST' }, (res) => resolve(res.statusCode!))
        .on('error', reject)
        .end(),
    );
    expect(post).toBe(405);
  }, 30_000);
});

// ---------------------------------------------------------------------------
// End to end, on topics of its own: the group service (HTTP + outbox → groups),
// the group presence processor, the SIP front end, the notify sink and the
// group presence table sink + HTTP view, with SIPp as the group watchers.
//   Fig 6: a group is created through the API with Alice (dispatcher) and Bob (driver);
//   Fig 7: Carol (dispatcher, refuses to share: share=false) and Dave (driver,
//          receiving policy receive-roles=same) join.
// Member presence: Alice, Bob, Carol and Dave as current-presence records (what
// the event managers publish); Erin (driver) is the AoR that registers in the
// shared capture sip/register-invite-udp.pcap, replayed through the taps into a
// real event manager while the watchers are subscribed.
// Bob (no receiving policy) and Dave SUBSCRIBE through the front end;
// each has a SIPp UAS on TCP as its Contact (group NOTIFYs exceed 1300 bytes,
// so RFC 3261 §18.1.1 sends them over TCP).
// ---------------------------------------------------------------------------

const e2eBase = isolatedSettings('group-e2e', 4);
const e2e = { ...e2eBase, database: { ...e2eBase.database, url: testDatabaseUrl } };
const e2eSerde = new RecordSerde(e2e.registry.url, e2e.topics.prefix);
const e2eTopic = (n: TopicName) => topicName(e2e.topics.prefix, n);
const groupsSchema = testSchema('e2e_groups');
const rulesSchema = testSchema('e2e_rules');
const e2eTableSchema = testSchema('e2e_group_presence');

const M = {
  alice: { uri: 'sip:alice@example.com', key: 'aor:sip:alice@example.com', role: 'dispatcher' },
  bob: { uri: 'sip:bob@example.com', key: 'aor:sip:bob@example.com', role: 'driver' },
  carol: { uri: 'sip:carol@example.com', key: 'aor:sip:carol@example.com', role: 'dispatcher' },
  dave: { uri: 'sip:dave@example.com', key: 'aor:sip:dave@example.com', role: 'driver' },
  erin: { uri: 'sip:voi18062@sip.cybercity.dk', key: 'aor:sip:voi18062@sip.cybercity.dk', role: 'driver' },
} as const;
const REPLAYED = 'sip/register-invite-udp.pcap';
type Who = keyof typeof M;

async function freeTcpPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, HOST, r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function presence(who: Who, version: number, basic: 'open' | 'closed'): Presence {
  const entity = M[who].uri;
  return {
    subscriber: M[who].key,
    version,
    basic,
    networkState: basic === 'open' ? 'attached' : 'detached',
    callState: 'idle',
    connectability: basic === 'open' ? 'connectable' : 'not-connectable',
    servingNode: null,
    cellGlobalId: null,
    activities: null,
    note: `${who} v${version}`,
    pidf: `<?xml version="1.0" encoding="UTF-8"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="${entity}"><tuple id="net"><status><basic>${basic}</basic></status></tuple><note>${who} v${version}</note></presence>`,
    dialogs: null,
    updatedAt: Date.now(),
  };
}

/** The SIPp watcher's UAS (its Contact, on TCP): receives `notifies` NOTIFYs of the group dialog, checks each, answers 200. */
function groupUas(notifies: Array<{ fullState: boolean; contains: string[]; absent: string[] }>): string {
  const vars: string[] = [];
  const steps = notifies
    .map((n, i) => {
      const checks = [
        `<ereg regexp="^ *presence *$" search_in="hdr" header="Event:" check_it="true" assign_to="ev${i}"/>`,
        `<ereg regexp="^ *eventlist *$" search_in="hdr" header="Require:" check_it="true" assign_to="rq${i}"/>`,
        `<ereg regexp="^ *active" search_in="hdr" header="Subscription-State:" check_it="true" assign_to="ss${i}"/>`,
        `<ereg regexp="^ *multipart/related;.*application/rlmi\\+xml" search_in="hdr" header="Content-Type:" check_it="true" assign_to="ct${i}"/>`,
        `<ereg regexp="fullState=.${n.fullState}." search_in="body" check_it="true" assign_to="fs${i}"/>`,
        ...n.contains.map((c, j) => `<ereg regexp="${c}" search_in="body" check_it="true" assign_to="in${i}_${j}"/>`),
        ...n.absent.map((c, j) => `<ereg regexp="${c}" search_in="body" check_it_inverse="true" assign_to="out${i}_${j}"/>`),
      ];
      vars.push(`ev${i}`, `rq${i}`, `ss${i}`, `ct${i}`, `fs${i}`, ...n.contains.map((_, j) => `in${i}_${j}`), ...n.absent.map((_, j) => `out${i}_${j}`));
      return receiveNotify(checks);
    })
    .join('\n');
  return scenarioXml('group watcher contact', steps, vars);
}

/** The SIPp watcher's UAC: one SUBSCRIBE to the group through the front end, Contact = its UAS on TCP. */
function groupUac(o: { groupUri: string; from: string; fromTag: string; contactPort: number; supported?: boolean; expect: number; filter?: string }): string {
  const subscribe = subscribeRequest({
    uri: o.groupUri,
    from: o.from,
    fromTag: o.fromTag,
    contact: `sip:watcher@[local_ip]:${o.contactPort};transport=tcp`,
    accept: 'multipart/related, application/rlmi+xml, application/pidf+xml',
    supported: o.supported === false ? undefined : 'eventlist',
    expires: 600,
    body: o.filter ? { contentType: 'application/simple-filter+xml', content: o.filter } : undefined,
  });
  return scenarioXml(
    'group watcher subscribe',
    `${subscribe}
  <recv response="${o.expect}"/>`,
  );
}

const entity = (who: Who) => `entity=.${M[who].uri}.`;
/** An RFC 4661 filter document with the processor's role extension: only members of the watcher's own role. */
const SAME_ROLE_FILTER =
  '<?xml version="1.0" encoding="UTF-8"?><filter-set xmlns="urn:ietf:params:xml:ns:simple-filter" xmlns:gf="urn:presence-gateway:params:xml:ns:group-filter"><filter id="f1"><gf:role>same</gf:role></filter></filter-set>';

describe('end to end: SIPp group watchers receive exactly what the policies allow', () => {
  let service: GroupService;
  let gp: GroupPresenceService;
  let fe: SipFrontEnd | undefined;
  let notifySink: NotifySink;
  let table: GroupPresenceTable;
  let tableSink: GroupPresenceSink;
  let api: http.Server;
  let apiPort: number;
  let e2eProducer: RecordProducer;
  let em: EventManager;
  const groupId = `crew-${run}`;
  const groupUri = `sip:crew-${run}@groups.example.net`;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- arbitrary JSON bodies, asserted field by field
  async function api_(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
    const res = await fetch(`http://${HOST}:${service.port}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  }

  async function setPresence(who: Who, version: number, basic: 'open' | 'closed'): Promise<void> {
    const p = presence(who, version, basic);
    await e2eProducer.send(e2eTopic('current-presence'), p.subscriber, e2eSerde.encode('current-presence', p));
  }

  /** The group's NotifyRequests so far, by Call-ID. */
  async function notifiesByCall(settleMs: number): Promise<Map<string, NotifyRequest[]>> {
    const msgs = await readTopic({ brokers: e2e.kafka.brokers, topic: e2eTopic('notify-requests'), partitions: 4, count: 0, timeoutMs: 30_000, settleMs });
    const out = new Map<string, NotifyRequest[]>();
    for (const m of msgs) {
      const n = await e2eSerde.decode('notify-requests', m.value!);
      if (n.presentity !== `group:${groupId}`) continue;
      out.set(n.callId, [...(out.get(n.callId) ?? []), n]);
    }
    return out;
  }

  async function reportsFor(callIds: string[], atLeast: number[]): Promise<DeliveryReport[]> {
    let reports: DeliveryReport[] = [];
    return eventually(
      () => `delivery reports ${JSON.stringify(atLeast)} for ${callIds.join(', ')}: ${JSON.stringify(reports.map((r) => [r.callId, r.outcome]))}`,
      async () => {
        const msgs = await readTopic({
          brokers: e2e.kafka.brokers,
          topic: e2eTopic('group-delivery-reports'),
          partitions: GROUP_PARTITIONS,
          count: 0,
          timeoutMs: 30_000,
          settleMs: 300,
        });
        reports = await Promise.all(msgs.map((m) => e2eSerde.decode('group-delivery-reports', m.value!)));
        return callIds.every((c, i) => reports.filter((r) => r.callId === c).length >= atLeast[i]!) && reports;
      },
      { timeoutMs: 60_000, intervalMs: 300 },
    );
  }

  beforeAll(async () => {
    e2eProducer = await openIsolated(e2e, e2eSerde, `it-group-e2e-${run}`);
    service = await startGroupService(e2e, { port: 0, host: HOST, schema: groupsSchema, databaseUrl: testDatabaseUrl });
    gp = await startGroupPresence(e2e, { memberId: `gp-e2e-${run}` });
    em = await startEventManager(e2e, { memberId: `em-e2e-${run}`, rulesSchema });
    notifySink = await startNotifySink(e2e, {
      host: HOST,
      port: 0,
      t1Ms: 100,
      retry: { maxAttempts: 2, backoffBaseMs: 200, backoffMaxMs: 1000 },
      drainMs: 1000,
    });
    table = new GroupPresenceTable(testDatabaseUrl, e2eTableSchema);
    tableSink = await GroupPresenceSink.start(e2e, table);
    api = await startGroupPresenceApi({ table, plan: { countryCode: '351' } }, 0, HOST);
    apiPort = (api.address() as { port: number }).port;
  }, 180_000);

  afterAll(async () => {
    await fe?.stop();
    await new Promise((r) => api?.close(r));
    await tableSink?.stop();
    await table?.close();
    await notifySink?.stop();
    await gp?.stop();
    await em?.stop();
    await service?.stop();
    await e2eProducer?.close();
    await cleanupIsolated(e2e);
    await dropSchema(groupsSchema);
    await dropSchema(rulesSchema);
    await dropSchema(e2eTableSchema);
  }, 120_000);

  it.skipIf(!HAVE_SIPP || !haveCaptures)(
    'group created and joined through the API; watchers get full then partial NOTIFYs per policy (also from replayed signaling), versions contiguous; outsider 403, no eventlist 421',
    async () => {
      // Fig 6: establishment with the first members.
      const created = await api_('POST', '/groups', {
        id: groupId,
        uri: groupUri,
        name: 'Crew',
        adminPolicy: 'members-only',
        members: [
          { uri: M.alice.uri, role: 'dispatcher' },
          { uri: M.bob.uri, role: 'driver' },
        ],
      });
      expect(created.status, JSON.stringify(created.json)).toBe(201);
      // Fig 7: members join — Carol refuses to share her presence; Dave receives only his own role.
      expect((await api_('PUT', `/groups/${groupId}/members/${encodeURIComponent(M.carol.uri)}`, { role: 'dispatcher', share: false })).status).toBe(201);
      expect(
        (await api_('PUT', `/groups/${groupId}/members/${encodeURIComponent(M.dave.uri)}`, { role: 'driver', attributes: { 'receive-roles': 'same' } })).status,
      ).toBe(201);
      expect((await api_('PUT', `/groups/${groupId}/members/${encodeURIComponent(M.erin.uri)}`, { role: 'driver' })).status).toBe(201);
      for (const who of ['alice', 'bob', 'carol', 'dave'] as const) await setPresence(who, 1, 'open');

      // The group's presence reaches the table: all four members, Carol's presence withheld.
      const asBob = await eventually(
        'the group presence document with every member',
        async () => {
          const r = await get(apiPort, `/groups/${groupId}/presence?watcher=${encodeURIComponent(M.bob.uri)}`);
          if (r.status !== 200) return undefined;
          const j = JSON.parse(r.body);
          const states = Object.fromEntries(j.members.map((m: { uri: string; state: string }) => [m.uri, m.state]));
          return states[M.alice.uri] === 'active' &&
            states[M.bob.uri] === 'active' &&
            states[M.dave.uri] === 'active' &&
            states[M.carol.uri] === 'terminated' &&
            states[M.erin.uri] === 'pending'
            ? j
            : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 200 },
      );
      expect(asBob.members).toHaveLength(5);

      // The front end now knows the group (it reads the groups topic to its end on start).
      fe = await startSipFrontEnd(e2e, { host: HOST, port: 0, frontEndId: 'fe-e2e' });
      const subscribe = async (who: Who | 'eve', fromTag: string, contactPort: number, expect_: number, supported = true, filter?: string) => {
        const from = who === 'eve' ? 'sip:eve@example.com' : M[who].uri;
        const callIdPrefix = `e2e-${who}-${fromTag}-${run}`;
        const args = [`${HOST}:${fe!.port}`, '-i', HOST, '-p', String(await freeUdpPort()), '-t', 'u1', '-m', '1', '-cid_str', `${callIdPrefix}-%u`];
        const r = await startSipp({
          scenario: groupUac({ groupUri, from, fromTag, contactPort, supported, expect: expect_, ...(filter ? { filter } : {}) }),
          args,
          deadlineMs: 15_000,
        }).done;
        expect(r, `sipp exit ${r.code}: ${r.errors}`).toMatchObject({ code: 0 });
        return `${callIdPrefix}-1`;
      };

      // Bob sees everyone but Carol's presence: full state, then Alice's change, then his own.
      // Dave (drivers only): full state with Bob and himself, then only Bob's change — never Alice's or Carol's presence.
      const bobPort = await freeTcpPort();
      const davePort = await freeTcpPort();
      const bobUas = startSipp({
        scenario: groupUas([
          { fullState: true, contains: [entity('alice'), entity('bob'), entity('dave'), 'alice v1', 'reason=.rejected.'], absent: [entity('carol')] },
          { fullState: false, contains: [entity('alice'), 'alice v2'], absent: [entity('carol'), entity('bob')] },
          { fullState: false, contains: [entity('bob'), 'bob v2'], absent: [entity('carol'), entity('alice')] },
          { fullState: false, contains: [entity('erin'), '<basic>open</basic>'], absent: [entity('carol'), entity('alice'), entity('bob')] },
        ]),
        args: ['-i', HOST, '-p', String(bobPort), '-t', 't1', '-m', '1'],
        deadlineMs: 120_000,
      });
      const daveUas = startSipp({
        scenario: groupUas([
          { fullState: true, contains: [entity('bob'), entity('dave')], absent: [entity('alice'), entity('carol'), 'alice v', 'carol v'] },
          { fullState: false, contains: [entity('bob'), 'bob v2'], absent: [entity('alice'), entity('carol')] },
          { fullState: false, contains: [entity('erin'), '<basic>open</basic>'], absent: [entity('alice'), entity('carol'), entity('bob')] },
        ]),
        args: ['-i', HOST, '-p', String(davePort), '-t', 't1', '-m', '1'],
        deadlineMs: 120_000,
      });
      // Alice asks in her SUBSCRIBE (RFC 4661 filter body) for her own role only: herself and Carol (who refuses).
      const alicePort = await freeTcpPort();
      const aliceUas = startSipp({
        scenario: groupUas([
          { fullState: true, contains: [entity('alice'), 'alice v1', 'reason=.rejected.'], absent: [entity('bob'), entity('dave'), entity('carol')] },
          { fullState: false, contains: [entity('alice'), 'alice v2'], absent: [entity('bob'), entity('carol')] },
        ]),
        args: ['-i', HOST, '-p', String(alicePort), '-t', 't1', '-m', '1'],
        deadlineMs: 120_000,
      });
      try {
        await sleep(500); // the UASs listen
        const bobCall = await subscribe('bob', 'b1', bobPort, 200);
        const daveCall = await subscribe('dave', 'd1', davePort, 200);
        const aliceCall = await subscribe('alice', 'a1', alicePort, 200, true, SAME_ROLE_FILTER);
        // Policy edge cases at the front end: an outsider of a members-only group; a watcher without eventlist.
        await subscribe('eve', 'e1', await freeTcpPort(), 403);
        await subscribe('bob', 'b2', bobPort, 421, false);

        await reportsFor([bobCall, daveCall, aliceCall], [1, 1, 1]); // the full states delivered
        await setPresence('alice', 2, 'closed'); // a dispatcher: Bob and Alice, not Dave
        await reportsFor([bobCall, daveCall, aliceCall], [2, 1, 2]);
        await setPresence('bob', 2, 'closed'); // a driver: both
        await setPresence('carol', 2, 'closed'); // refuses: nobody
        await reportsFor([bobCall, daveCall], [3, 2]);
        // Erin registers in the replayed capture: the event manager derives her presence from the signaling.
        const replayed = await replayCaptures(e2e, [capture(REPLAYED)], { speed: Infinity, unknown: 'keep', directory: undefined });
        expect(replayed.signals).toBeGreaterThan(0);
        await reportsFor([bobCall, daveCall], [4, 3]);

        const [bobDone, daveDone, aliceDone] = await Promise.all([bobUas.done, daveUas.done, aliceUas.done]);
        expect(aliceDone, `alice's sipp exit ${aliceDone.code}: ${aliceDone.errors}`).toMatchObject({ code: 0 });
        expect(bobDone, `bob's sipp exit ${bobDone.code}: ${bobDone.errors}`).toMatchObject({ code: 0 });
        expect(daveDone, `dave's sipp exit ${daveDone.code}: ${daveDone.errors}`).toMatchObject({ code: 0 });

        // Exactly those NOTIFYs (none for Carol's change, none to Eve or the 421), versions and CSeqs contiguous from 1.
        const byCall = await notifiesByCall(3000);
        expect([...byCall.keys()].sort()).toEqual([bobCall, daveCall, aliceCall].sort());
        for (const [call, n] of [
          [bobCall, 4],
          [daveCall, 3],
          [aliceCall, 2],
        ] as const) {
          const ns = byCall.get(call)!;
          expect(ns.map((x) => x.version)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
          expect(ns.map((x) => x.cseq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
          expect(ns.every((x) => x.subscriptionState === 'active' && x.contentType?.startsWith('multipart/related'))).toBe(true);
        }
        const reports = await reportsFor([bobCall, daveCall, aliceCall], [4, 3, 2]);
        const ours = reports.filter((r) => [bobCall, daveCall, aliceCall].includes(r.callId));
        expect(ours).toHaveLength(9);
        expect(ours.every((r) => r.outcome === 'delivered')).toBe(true);

        // The table follows: Dave's view over HTTP is the drivers only; Eve is refused.
        const asDave = await eventually(
          'Bob closed in the table',
          async () => {
            const r = await get(apiPort, `/groups/${groupId}/presence?watcher=${encodeURIComponent(M.dave.uri)}`);
            const j = JSON.parse(r.body);
            return r.status === 200 && j.members.find((m: { uri: string; pidf: string | null }) => m.uri === M.bob.uri)?.pidf?.includes('closed')
              ? j
              : undefined;
          },
          { timeoutMs: 20_000, intervalMs: 200 },
        );
        expect(asDave.members.map((m: { uri: string; state: string }) => [m.uri, m.state])).toEqual([
          [M.bob.uri, 'active'],
          [M.dave.uri, 'active'],
          [M.erin.uri, 'active'],
        ]);
        expect((await get(apiPort, `/groups/${groupId}/presence?watcher=sip:eve@example.com`)).status).toBe(403);
      } finally {
        bobUas.kill();
        daveUas.kill();
        aliceUas.kill();
      }
    },
    300_000,
  );
});
