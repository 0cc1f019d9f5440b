// `presence run console` against the real broker and registry, on its own
// topic prefix: records written as the event managers, taps and sinks write
// them reach the page's server-sent-event streams live — the group (members,
// partitions, a rebalance as moves), one subscriber's presence changes and
// NOTIFYs, and the flow counters — read from the latest offsets without a
// consumer group; bad requests get 400/404/405 and a dead Kafka 503.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { RecordSerde } from '../../schemas/serde.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { withAdmin } from '../../kafka/kafkaAdmin.ts';
import { partitionOf } from '../../kafka/partitioner.ts';
import { startConsole, type Console } from '../../services/console/consoleServer.ts';
import { EVENT_MANAGER_GROUP, EVENT_MANAGER_INPUTS } from '../../streams/event-manager/eventManager.ts';
import type { GroupSnapshot, PartitionMove } from '../../services/console/groupView.ts';
import type { FlowSnapshot } from '../../services/console/flowMeter.ts';
import type { NotifyRequest, Presence, PresenceState } from '../../schemas/generated/records.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { deadLetterRecord, memberReport, presenceRecord, presenceState, watcherState } from '../support/consoleRecords.ts';
import { mapEvent } from '../support/signalingEvents.ts';
import { notifyRecord } from '../support/notifyRecords.ts';
import { SseClient } from '../support/sseClient.ts';
import { group, member, teamPresence } from '../support/groupRecords.ts';
import { groupPerspective } from '../../cli/commands/console.ts';
import type { GroupAnswer, GroupSummary } from '../../services/console/presenceGroups.ts';
import type { DeliveryReport, Group, GroupPresence } from '../../schemas/generated/records.ts';
import { eventually } from '../support/wait.ts';

const s = isolatedSettings('console', 4);
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const producer = new RecordProducer(s.kafka.brokers, 'it-console');
let consoleApp: Console | undefined;
let base = '';
const streams: SseClient[] = [];
const open = async (path: string) => {
  const c = await SseClient.open(`${base}${path}`);
  streams.push(c);
  return c;
};

beforeAll(async () => {
  await applyIsolated(s);
  await serde.loadIds();
  await producer.connect();
  consoleApp = await startConsole(s, {
    port: 0,
    host: '127.0.0.1',
    lag: { groupId: `${s.topics.prefix}${EVENT_MANAGER_GROUP}`, topics: EVENT_MANAGER_INPUTS, intervalMs: 1000 },
    groupPerspective: groupPerspective(s),
  });
  base = `http://127.0.0.1:${(consoleApp.server.address() as AddressInfo).port}`;
  await eventually('the console reading Kafka', async () => (await fetch(`${base}/api/healthz`)).status === 200, { timeoutMs: 60_000 });
});

afterAll(async () => {
  for (const c of streams) c.close();
  await consoleApp?.stop();
  await producer.close();
  await cleanupIsolated(s);
});

const send = {
  member: (r: ReturnType<typeof memberReport>) =>
    producer.send(topicName(s.topics.prefix, 'event-manager-members'), r.memberId, serde.encode('event-manager-members', r)),
  presence: (p: Presence) => producer.send(topicName(s.topics.prefix, 'current-presence'), p.subscriber, serde.encode('current-presence', p)),
  state: (st: PresenceState) =>
    producer.send(
      topicName(s.topics.prefix, 'event-manager-presence-store-changelog'),
      st.subscriber,
      serde.encode('event-manager-presence-store-changelog', st),
    ),
  notify: (n: NotifyRequest) => producer.send(topicName(s.topics.prefix, 'notify-requests'), n.presentity, serde.encode('notify-requests', n)),
  group: (g: Group) => producer.send(topicName(s.topics.prefix, 'groups'), g.groupId, serde.encode('groups', g)),
  groupPresence: (gp: GroupPresence) => producer.send(topicName(s.topics.prefix, 'group-presence'), gp.groupId, serde.encode('group-presence', gp)),
  delivery: (d: DeliveryReport) => producer.send(topicName(s.topics.prefix, 'delivery-reports'), d.presentity, serde.encode('delivery-reports', d)),
};

describe('presence run console', () => {
  it('serves the page and its script from the repo', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toMatch(/<script type="module" src="\/console\.js">/);
    const js = await fetch(`${base}/console.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
  });

  it('streams the group: every member with its partitions, and a rebalance as partitions leave one member and arrive at another', async () => {
    const stream = await open('/api/stream');
    expect(stream.contentType).toMatch(/text\/event-stream/);
    await stream.next<{ kafka: string }>('status', (st) => st.kafka === 'up');

    await send.member(memberReport('em-a', [0, 1, 2, 3]));
    const first = await stream.next<GroupSnapshot>('members', (g) => g.members.some((m) => m.memberId === 'em-a'));
    expect(first.members.find((m) => m.memberId === 'em-a')).toMatchObject({ partitions: [0, 1, 2, 3], subscribers: 12, eventsPerSecond: 6, state: 'live' });
    expect(first.owners).toEqual(['em-a', 'em-a', 'em-a', 'em-a']);

    // em-b joins: em-a is revoked 2 and 3 (they are in transit), then em-b reports them.
    await send.member(memberReport('em-a', [0, 1]));
    await send.member(memberReport('em-b', [2, 3]));
    const arrived = (p: number) => (m: { moves: PartitionMove[] }) => m.moves.some((x) => x.partition === p && x.from === null && x.to === 'em-b');
    const left = await stream.next<{ moves: PartitionMove[] }>('moves', (m) => m.moves.some((x) => x.partition === 2 && x.from === 'em-a' && x.to === null));
    expect(left.moves.map((x) => x.partition).sort()).toEqual([2, 3]);
    await stream.next('moves', arrived(2));
    await stream.next('moves', arrived(3));
    const after = await stream.next<GroupSnapshot>('members', (g) => g.owners.join() === 'em-a,em-a,em-b,em-b');
    expect(after.members.map((m) => [m.memberId, m.partitions])).toEqual([
      ['em-a', [0, 1]],
      ['em-b', [2, 3]],
    ]);

    // A page opened later starts from the same picture.
    const late = await open('/api/stream');
    expect((await late.next<GroupSnapshot>('members')).owners).toEqual(['em-a', 'em-a', 'em-b', 'em-b']);
    // ... and with the rebalance it missed: the latest moves are replayed to it.
    await late.next('moves', arrived(2), 2000);
  });

  it("finds a subscriber and follows its presence changes and the NOTIFYs for it live, and no one else's", async () => {
    const located = await fetch(`${base}/api/locate/${encodeURIComponent('+351910000123')}`);
    expect(located.status).toBe(200);
    const loc = (await located.json()) as { key: string; partition: number };
    const key = 'msisdn:+351910000123';
    expect(loc).toMatchObject({ key, partition: partitionOf(key, 4) });

    // Its owner already holds one watcher's dialog (in its store's changelog, before the page looks).
    await send.state(presenceState(key, 5, [watcherState('sip:alice@example.com')]));
    const follow = await open(`/api/subscribers/${encodeURIComponent(key)}/stream`);
    expect(follow.status).toBe(200);
    await follow.next('following', (f: { key: string }) => f.key === key);
    type Watchers = { subscriber: string; version: number; watchers: Array<{ watcherUri: string; state: string; notifyCseq: number }> };
    const first = await follow.next<Watchers>('watchers', (w) => w.version === 5);
    expect(first.watchers).toEqual([expect.objectContaining({ watcherUri: 'sip:alice@example.com', state: 'active', notifyCseq: 2 })]);
    // A second watcher subscribes (pending authorization): the page hears it live.
    await send.state(
      presenceState(key, 6, [watcherState('sip:alice@example.com'), watcherState('sip:bob@example.com', { state: 'pending', decision: 'confirm' })]),
    );
    const second = await follow.next<Watchers>('watchers', (w) => w.version === 6);
    expect(second.watchers.map((w) => [w.watcherUri, w.state])).toEqual([
      ['sip:alice@example.com', 'active'],
      ['sip:bob@example.com', 'pending'],
    ]);
    await send.presence(presenceRecord('msisdn:+351910000999', 1));
    await send.presence(presenceRecord(key, 1, { networkState: 'attached', callState: 'idle' }));
    await send.presence(presenceRecord(key, 2, { networkState: 'attached', callState: 'in-call', activities: 'on-the-phone' }));
    await send.notify(notifyRecord({ presentity: key, notifyId: 'n-console-1', toUri: 'sip:watcher@example.com', cseq: 3 }));
    const inCall = await follow.next<Presence>('presence', (p) => p.version === 2);
    expect(inCall).toMatchObject({ subscriber: key, callState: 'in-call', activities: 'on-the-phone' });
    expect(await follow.next<NotifyRequest>('notify')).toMatchObject({ presentity: key, notifyId: 'n-console-1', toUri: 'sip:watcher@example.com', cseq: 3 });
    expect(follow.events.filter((e) => e.event === 'presence').map((e) => (e.data as Presence).subscriber)).not.toContain('msisdn:+351910000999');
  });

  it('counts the flow: signaling events by message, presence changes, NOTIFYs and dead letters by reason', async () => {
    const stream = await open('/api/stream');
    await stream.next('flow');
    const T = Date.now();
    // A record that is not ours first: counted as undecodable, and the rest are still counted.
    await producer.send(topicName(s.topics.prefix, 'signaling-events'), 'msisdn:+351910000299', Buffer.from('not avro'));
    for (let i = 0; i < 20; i++) {
      const key = `msisdn:+3519100002${String(i).padStart(2, '0')}`;
      await producer.send(
        topicName(s.topics.prefix, 'signaling-events'),
        key,
        serde.encode('signaling-events', mapEvent(key, 'updateLocation', 'invoke', T + i, {})),
      );
    }
    for (const d of [
      deadLetterRecord('sccp', 'truncated', 'short UDT'),
      deadLetterRecord('sccp', 'truncated', 'shorter UDT'),
      deadLetterRecord('sip', 'malformed', 'NUL'),
    ])
      await producer.send(topicName(s.topics.prefix, 'dead-letters'), null, serde.encode('dead-letters', d));
    const flow = await stream.next<FlowSnapshot & { undecodable: number }>('flow', (f) => f.totals.signalingEvents >= 20 && f.totals.deadLetters >= 3);
    expect(flow.undecodable).toBe(1);
    expect(flow.totals.signalingEvents).toBe(20);
    expect(flow.rates.signalingEvents).toBeGreaterThan(0);
    expect(flow.signalingByMessage).toContainEqual(expect.objectContaining({ protocol: 'map', message: 'updateLocation', total: 20 }));
    expect(flow.deadLettersByReason).toContainEqual(
      expect.objectContaining({ layer: 'sccp', reason: 'truncated', total: 2, sample: expect.objectContaining({ message: 'shorter UDT' }) }),
    );
    expect(flow.totals.presenceChanges).toBeGreaterThanOrEqual(3); // the previous test's records
    expect(flow.totals.notifyRequests).toBeGreaterThanOrEqual(1);
  });

  it("shows the event managers' lag per partition: their group's committed offsets against the ends of its input topics", async () => {
    const stream = await open('/api/stream');
    // No event manager ran on this prefix: the 21 signaling records of the previous test (one undecodable) are all lag.
    const lag = await stream.next<{ groupId: string; partitions: number[]; total: number }>('lag', (l) => l.total === 21);
    expect(lag.groupId).toBe(`${s.topics.prefix}${EVENT_MANAGER_GROUP}`);
    expect(lag.partitions).toHaveLength(4);
    expect(lag.partitions.reduce((a, b) => a + b, 0)).toBe(21);
    expect(lag.partitions.filter((n) => n > 0).length).toBeGreaterThan(1);
  });

  it('counts NOTIFYs delivered only after retries, and the retransmissions behind them', async () => {
    const stream = await open('/api/stream');
    await stream.next('flow');
    const report = (notifyId: string, outcome: string, attempts: number): DeliveryReport => ({
      notifyId,
      presentity: 'msisdn:+351910000123',
      callId: 'c',
      outcome,
      statusCode: outcome === 'delivered' ? 200 : null,
      attempts,
      reason: null,
      time: Date.now(),
      transport: 'udp',
    });
    await send.delivery(report('n1', 'delivered', 1));
    await send.delivery(report('n2', 'delivered', 3));
    await send.delivery(report('n3', 'gave-up', 7));
    const flow = await stream.next<FlowSnapshot>('flow', (f) => f.totals.deliveries >= 3);
    expect(flow.totals.retried).toBe(2);
    expect(flow.retransmissions).toBe(8);
  });

  it('shows groups live, and one group as the group itself, a watcher of a role and an outsider see it', async () => {
    const stream = await open('/api/stream');
    const boss = member(1, { role: 'manager', attributes: { 'receive-roles': 'same' } });
    const agent = member(2, { role: 'agent' });
    const shy = member(3, { role: 'agent', share: false });
    await send.group(group([boss, agent, shy], { groupId: 'g-console', version: 2 }));
    // First the group service's record alone: members known, presence not yet.
    const listed = await stream.next<GroupSummary[]>('groups', (l) => l.some((g) => g.groupId === 'g-console'));
    expect(listed.find((g) => g.groupId === 'g-console')).toMatchObject({ name: 'Team', memberCount: 3, infoVersion: 2, presenceVersion: null });
    const pending = (await (await fetch(`${base}/api/groups/g-console`)).json()) as GroupAnswer;
    expect(pending.presenceKnown).toBe(false);
    expect(pending.members.map((m) => m.state)).toEqual(['pending', 'pending', 'terminated']);

    // Then group presence writes its document.
    await send.groupPresence(teamPresence('g-console', 5, [boss, agent, shy]));
    await stream.next<GroupSummary[]>('groups', (l) => l.some((g) => g.groupId === 'g-console' && g.presenceVersion === 5));
    const all = (await (await fetch(`${base}/api/groups/g-console`)).json()) as GroupAnswer;
    expect(all).toMatchObject({ presenceKnown: true, allowed: true, adminPolicy: 'members-only', roles: ['agent', 'manager'] });
    expect(all.members.map((m) => [m.uri, m.state, m.summary?.basic ?? null])).toEqual([
      [boss.uri, 'active', 'open'],
      [agent.uri, 'active', 'open'],
      [shy.uri, 'terminated', null],
    ]);
    const asManager = (await (await fetch(`${base}/api/groups/g-console?role=manager`)).json()) as GroupAnswer;
    expect(asManager.members.map((m) => m.uri)).toEqual([boss.uri]);
    expect(asManager.hidden).toBe(2);
    const asAgent = (await (await fetch(`${base}/api/groups/g-console?watcher=${encodeURIComponent(agent.uri)}`)).json()) as GroupAnswer;
    expect(asAgent.members).toHaveLength(3);
    const outsider = (await (await fetch(`${base}/api/groups/g-console?watcher=${encodeURIComponent('sip:stranger@example.org')}`)).json()) as GroupAnswer;
    expect(outsider).toMatchObject({ allowed: false, reason: 'not-a-member', members: [] });

    // Bad asks: JSON errors, never a crash.
    const status = async (path: string) => {
      const r = await fetch(`${base}${path}`);
      expect(r.headers.get('content-type')).toMatch(/json/);
      return r.status;
    };
    expect(await status('/api/groups/g-console?role=janitor')).toBe(404);
    expect(await status('/api/groups/no-such-group')).toBe(404);
    expect(await status('/api/groups/g-console?watcher=alice')).toBe(400);
    expect(await status('/api/groups/g-console?watcher=sip:a@b&role=agent')).toBe(400);
    expect(await status('/api/groups/%E0%A4%A')).toBe(400);
    expect(((await (await fetch(`${base}/api/groups`)).json()) as { groups: GroupSummary[] }).groups.map((g) => g.groupId)).toContain('g-console');
  });

  it('is read-only without management: no login, no replay (405), and says so', async () => {
    expect(await (await fetch(`${base}/api/session`)).json()).toMatchObject({ management: false, loggedIn: false });
    const login = await fetch(`${base}/api/session`, { method: 'POST', headers: { authorization: 'Bearer x' } });
    expect(login.status).toBe(405);
    expect(((await login.json()) as { error: string }).error).toMatch(/read-only/);
    const replay = await fetch(`${base}/api/replays`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(replay.status).toBe(405);
    expect(await (await fetch(`${base}/api/replays`)).json()).toMatchObject({ enabled: false, captures: [] });
  });

  it('reads without a consumer group: nothing of the console shows up among the groups', async () => {
    const groups = await withAdmin(s.kafka.brokers, (a) => a.listGroups());
    // The console's clients name themselves presence-console-…; a group of that name would mean it joined or committed.
    expect(groups.groups.map((g) => g.groupId).filter((g) => g.startsWith('presence-console'))).toEqual([]);
  });

  it('answers bad requests with JSON errors: 400 for a non-identity, 404 for an unknown path, 405 for other methods', async () => {
    const bad = await fetch(`${base}/api/locate/zzz`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/not an MSISDN/);
    expect((await fetch(`${base}/api/subscribers/not-a-key/stream`)).status).toBe(400);
    const missing = await fetch(`${base}/api/nothing-here`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/json/);
    expect((await fetch(`${base}/nothing.js`)).status).toBe(404);
    expect((await fetch(`${base}/../package.json`)).status).toBe(404);
    expect((await fetch(`${base}/api/stream`, { method: 'POST' })).status).toBe(405);
  });

  it('Kafka down: the API answers 503 and the stream says so, the page still loads, nothing crashes', async () => {
    const down = await startConsole({ ...s, kafka: { ...s.kafka, brokers: '127.0.0.1:1' } }, { port: 0, host: '127.0.0.1', retryMs: 500 });
    try {
      const at = `http://127.0.0.1:${(down.server.address() as AddressInfo).port}`;
      const stream = await SseClient.open(`${at}/api/stream`);
      streams.push(stream);
      const st = await stream.next<{ kafka: string; error: string }>('status', (x) => x.kafka === 'down');
      expect(st.error).toMatch(/127\.0\.0\.1:1/);
      const health = await fetch(`${at}/api/healthz`);
      expect(health.status).toBe(503);
      const loc = await fetch(`${at}/api/locate/${encodeURIComponent('+351910000123')}`);
      expect(loc.status).toBe(503);
      expect(((await loc.json()) as { error: string }).error).toMatch(/127\.0\.0\.1:1/);
      expect((await fetch(`${at}/`)).status).toBe(200);
    } finally {
      await down.stop();
    }
  });
});
