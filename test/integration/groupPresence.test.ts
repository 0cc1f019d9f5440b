// Group presence on the real broker, registry and database: signaling for
// members goes through an event manager (current-presence), the group
// presence processor joins it with the group record, and group watchers get
// RFC 4662 NOTIFYs — full state, then partial ones with only what they may
// see changed, versions contiguous, also after another member takes over — while a member who refuses sharing, an
// outsider and a role-filtered watcher get exactly what policies allow.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMultipart } from '../../presence-document/multipart.ts';
import { parsePidf } from '../../presence-document/parse.ts';
import { parseRlmi } from '../../presence-document/rlmi.ts';
import type { Group, GroupMember, NotifyRequest, SignalingEvent, Subscription } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { mapEvent } from '../support/signalingEvents.ts';
import { startGroupPresence, type GroupPresenceService } from '../../streams/group-presence/groupPresenceService.ts';
import { visibleGroupDocument } from '../../streams/group-presence/policy/visibleGroupDocument.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { readTopic } from '../support/topicReader.ts';
import { eventually } from '../support/wait.ts';

const base = isolatedSettings('group-presence', 3);
const s = { ...base, database: { ...base.database, url: testDatabaseUrl } };
const rulesSchema = `it_gp_rules_${process.pid}`;
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const topic = (n: Parameters<typeof topicName>[1]) => topicName(s.topics.prefix, n as never);
const T = Date.UTC(2026, 0, 1, 8);
let producer: RecordProducer;
let em: EventManager | undefined;
let gp: GroupPresenceService | undefined;

const m = (n: number, o: Partial<GroupMember> = {}): GroupMember => ({
  subscriber: `msisdn:+35191000000${n}`,
  uri: `sip:+35191000000${n}@ims.example.net`,
  role: 'driver',
  displayName: `Member ${n}`,
  attributes: {},
  share: true,
  sharedParts: [],
  ...o,
});
const A = m(1);
const B = m(2, { share: false }); // refuses to share
const C = m(3); // no signaling: pending
const D = m(4, { role: 'dispatcher', attributes: { 'receive-roles': 'same' } });
const E = m(5, { role: 'dispatcher' }); // joins later (Action 508)

function group(version: number, members: GroupMember[], attributes: Record<string, string> = { shift: 'day' }): Group {
  return { groupId: 'g1', version, uri: 'sip:fleet@groups.example.net', name: 'Fleet', attributes, members, adminPolicy: 'members-only', updatedAt: T };
}

function subscribe(watcher: GroupMember | string, n: number): Subscription {
  const uri = typeof watcher === 'string' ? watcher : watcher.uri;
  return {
    contactVerified: true,
    dialogFilter: null,
    requestId: `gsub-${n}`,
    receivedAt: Date.now(),
    presentity: 'group:g1',
    presentityUri: 'sip:fleet@groups.example.net',
    watcherUri: uri,
    event: 'presence',
    expires: 3600,
    callId: `group-dialog-${n}`,
    watcherTag: `wt${n}`,
    cseq: 1,
    contact: `sip:watcher${n}@127.0.0.1:5070`,
    routeSet: [],
    accept: ['multipart/related', 'application/rlmi+xml', 'application/pidf+xml'],
    supported: ['eventlist'],
    body: null,
    frontEnd: 'fe-test',
    localTag: `fe-${n}`,
  };
}

const attach = (sub: string, t: number, id: string): SignalingEvent[] => [
  mapEvent(sub, 'updateLocation', 'invoke', t, { vlrNumber: '351910999001', mscNumber: '351910999001', opc: 100, dpc: 200 }, { eventId: `${id}-a` }),
  mapEvent(sub, 'updateLocation', 'result', t + 100, { hlrNumber: '351910999900', opc: 200, dpc: 100 }, { eventId: `${id}-b` }),
];
const purge = (sub: string, t: number, id: string) => [
  mapEvent(sub, 'purgeMS', 'invoke', t, { vlrNumber: '351910999001', opc: 100, dpc: 200 }, { eventId: id }),
];

async function send(events: SignalingEvent[]) {
  for (const e of events) await producer.send(topic('signaling-events'), e.subscriber, serde.encode('signaling-events', e));
}

async function groupNotifies(count: number, settleMs = 1500): Promise<NotifyRequest[]> {
  const got = await readTopic({ brokers: s.kafka.brokers, topic: topic('notify-requests'), partitions: 3, count, timeoutMs: 60_000, settleMs });
  const all = await Promise.all(got.map((r) => serde.decode('notify-requests', r.value!)));
  return all.filter((n) => n.presentity === 'group:g1');
}

function decode(n: NotifyRequest) {
  const boundary = /boundary="([^"]+)"/.exec(n.contentType!)![1]!;
  const parts = parseMultipart(Buffer.from(n.body!), boundary);
  const rlmi = parseRlmi(parts[0]!.body);
  const pidfs = new Map(parts.filter((p) => p.contentType === 'application/pidf+xml').map((p) => [p.contentId, parsePidf(p.body)]));
  const resources: Record<string, { state: string; reason?: string; basic?: string }> = {};
  for (const r of rlmi.resources) {
    const i = r.instances[0]!;
    resources[r.uri] = { state: i.state, ...(i.reason ? { reason: i.reason } : {}), ...(i.cid ? { basic: pidfs.get(i.cid)?.services[0]?.basic } : {}) };
  }
  return { version: rlmi.version, fullState: rlmi.fullState, info: parts.some((p) => p.contentType.includes('group-info')), resources, pidfCount: pidfs.size };
}

/** Waits until the group-presence topic shows a document satisfying `ok`. */
async function documentWhere(ok: (d: Awaited<ReturnType<typeof serde.decode<'group-presence'>>>) => boolean, timeoutMs = 60_000) {
  let newestFirst: Array<Awaited<ReturnType<typeof serde.decode<'group-presence'>>>> = [];
  return eventually(
    () => `a group-presence document as expected (got ${newestFirst.length}, latest version ${newestFirst[0]?.version})`,
    async () => {
      const recs = await readTopic({ brokers: s.kafka.brokers, topic: topic('group-presence'), partitions: 6, count: 0, timeoutMs: 10_000, settleMs: 2_000 });
      newestFirst = (await Promise.all(recs.filter((r) => r.value).map((r) => serde.decode('group-presence', r.value!)))).reverse();
      return newestFirst.find(ok);
    },
    { timeoutMs, intervalMs: 500 },
  );
}

const byDialog = (ns: NotifyRequest[]) => {
  const out = new Map<string, NotifyRequest[]>();
  for (const n of ns) out.set(n.callId, [...(out.get(n.callId) ?? []), n]);
  return out;
};

beforeAll(async () => {
  await applyIsolated(s);
  await serde.loadIds();
  producer = new RecordProducer(s.kafka.brokers, 'it-gp', 15_000);
  await producer.connect();
});

afterAll(async () => {
  await gp?.stop();
  await em?.stop();
  await producer?.close();
  await cleanupIsolated(s);
  await dropSchema(rulesSchema);
});

describe('group presence', () => {
  it('joins replayed member presence with the group and notifies group watchers exactly what policies allow', { timeout: 240_000 }, async () => {
    await producer.send(topic('groups'), 'g1', serde.encode('groups', group(1, [A, B, C, D])));
    await send([...attach(A.subscriber, T, 'a1'), ...attach(B.subscriber, T, 'b1'), ...attach(D.subscriber, T, 'd1'), ...attach(E.subscriber, T, 'e1')]);
    em = await startEventManager(s, { memberId: 'em-gp', rulesSchema });
    gp = await startGroupPresence(s, { memberId: 'gp-1' });

    // Member presence from signaling reaches the group; B's stays withheld.
    const doc = await documentWhere((d) => d.members.filter((x) => x.basic === 'open').length === 2);
    expect(doc.members.map((x) => [x.uri, x.basic])).toEqual([
      [A.uri, 'open'],
      [B.uri, null],
      [C.uri, null],
      [D.uri, 'open'],
    ]);
    expect(doc.members[1]!.pidf).toBeNull();
    expect(doc.members[0]!.pidf).toContain('<basic>open</basic>');
    const forD = visibleGroupDocument(doc, D.uri);
    expect(forD.allowed && forD.visibleCount).toBe(1);
    expect(visibleGroupDocument(doc, 'sip:stranger@example.net')).toEqual({ allowed: false, reason: 'not-a-member' });

    // Watchers: member A (everything allowed), an outsider, member D (same role only).
    await producer.send(topic('group-subscriptions'), 'g1', serde.encode('group-subscriptions', subscribe(A, 1)));
    await producer.send(topic('group-subscriptions'), 'g1', serde.encode('group-subscriptions', subscribe('sip:stranger@example.net', 2)));
    await producer.send(topic('group-subscriptions'), 'g1', serde.encode('group-subscriptions', subscribe(D, 3)));
    let ns = await groupNotifies(3);
    expect(ns).toHaveLength(3);

    // A's presence changes (purgeMS): a partial NOTIFY to A's dialog only (D receives dispatchers only).
    await send(purge(A.subscriber, T + 60_000, 'a2'));
    await groupNotifies(4);
    // Basic group information changes: its own NOTIFY to both dialogs.
    await producer.send(topic('groups'), 'g1', serde.encode('groups', group(2, [A, B, C, D], { shift: 'night' })));
    await groupNotifies(6);
    // E joins: an info NOTIFY (E pending), then E's kept presence (Action 508) as a presence NOTIFY.
    await producer.send(topic('groups'), 'g1', serde.encode('groups', group(3, [A, B, C, D, E], { shift: 'night' })));
    ns = await groupNotifies(10, 3000);
    expect(ns).toHaveLength(10);

    const dialogs = byDialog(ns);
    const a = dialogs.get('group-dialog-1')!.map(decode);
    const x = dialogs.get('group-dialog-2')!;
    const d = dialogs.get('group-dialog-3')!.map(decode);

    // Versions contiguous, CSeqs increasing, full state first then partial.
    expect(dialogs.get('group-dialog-1')!.map((n) => [n.version, n.cseq])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
      [5, 5],
    ]);
    expect(a.map((n) => n.version)).toEqual([1, 2, 3, 4, 5]);
    expect(a.map((n) => n.fullState)).toEqual([true, false, false, false, false]);
    expect(a.map((n) => n.info)).toEqual([true, false, true, true, false]);
    expect(a[0]!.resources).toEqual({
      [A.uri]: { state: 'active', basic: 'open' },
      [B.uri]: { state: 'terminated', reason: 'rejected' },
      [C.uri]: { state: 'pending' },
      [D.uri]: { state: 'active', basic: 'open' },
    });
    expect(a[1]!.resources).toEqual({ [A.uri]: { state: 'active', basic: 'closed' } });
    expect(a[2]!.resources).toEqual({});
    expect(a[3]!.resources).toEqual({ [E.uri]: { state: 'pending' } });
    expect(a[4]!.resources).toEqual({ [E.uri]: { state: 'active', basic: 'open' } });

    // The outsider is turned away.
    expect(x).toHaveLength(1);
    expect(x[0]).toMatchObject({ subscriptionState: 'terminated', reason: 'rejected', body: null });

    // D (receive-roles=same) sees dispatchers only: itself, later E.
    expect(d.map((n) => [n.version, n.fullState, n.info])).toEqual([
      [1, true, true],
      [2, false, true],
      [3, false, true],
      [4, false, false],
    ]);
    expect(d[0]!.resources).toEqual({ [D.uri]: { state: 'active', basic: 'open' } });
    expect(d[3]!.resources).toEqual({ [E.uri]: { state: 'active', basic: 'open' } });

    // B's presence never left the processor.
    for (const n of ns.filter((n) => n.body)) {
      const dn = decode(n);
      expect(dn.resources[B.uri]?.state ?? 'terminated').toBe('terminated');
      expect(dn.pidfCount).toBe(Object.values(dn.resources).filter((r) => r.state === 'active').length);
    }
    // Every NOTIFY is keyed and addressed as a group dialog.
    for (const n of ns) expect(n).toMatchObject({ presentity: 'group:g1', event: 'presence', fromUri: 'sip:fleet@groups.example.net' });

    const last = await documentWhere((doc) => doc.memberCount === 5 && doc.members[4]!.basic === 'open');
    expect(last.availableCount).toBe(2); // D and E (A closed, B withheld, C unknown)
    expect(gp.groups.stats.deadLetters + gp.members.stats.deadLetters).toBe(0);

    // Another member takes over: dialogs and member presence come back from the changelogs,
    // so the next change is a partial NOTIFY continuing the dialog's versions.
    await gp.stop();
    gp = await startGroupPresence(s, { memberId: 'gp-2' });
    await send(attach(A.subscriber, T + 120_000, 'a3'));
    const after = byDialog(await groupNotifies(11, 3000));
    expect(after.get('group-dialog-1')!.map((n) => n.version)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(decode(after.get('group-dialog-1')![5]!)).toMatchObject({
      version: 6,
      fullState: false,
      resources: { [A.uri]: { state: 'active', basic: 'open' } },
    });
    expect(after.get('group-dialog-3')).toHaveLength(4);
  });
  it('a group deleted and created again continues its document versions (newest-wins readers stay right)', { timeout: 120_000 }, async () => {
    const g2 = (version: number): Group => ({ ...group(version, [A]), groupId: 'g2', uri: 'sip:g2@groups.example.net', name: 'G2' });
    await producer.send(topic('groups'), 'g2', serde.encode('groups', g2(20)));
    const first = await documentWhere((d) => d.groupId === 'g2' && d.name === 'G2');
    await producer.send(topic('groups'), 'g2', null);
    // A replay of the old version after the tombstone (outbox at-least-once) must not bring it back.
    await producer.send(topic('groups'), 'g2', serde.encode('groups', g2(20)));
    await producer.send(topic('groups'), 'g2', serde.encode('groups', { ...g2(22), name: 'G2 again' }));
    const again = await documentWhere((d) => d.groupId === 'g2' && d.name === 'G2 again');
    expect(again.version).toBeGreaterThan(first.version);
    const recs = await readTopic({ brokers: s.kafka.brokers, topic: topic('group-presence'), partitions: 6, count: 0, timeoutMs: 10_000, settleMs: 1_000 });
    const g2Docs = recs.filter((r) => r.key?.toString() === 'g2');
    // document(s), tombstone, the new incarnation's document(s) — no resurrected old one after the tombstone.
    const names = await Promise.all(g2Docs.map(async (r) => (r.value ? (await serde.decode('group-presence', r.value)).name : null)));
    const tomb = names.indexOf(null);
    expect(tomb).toBeGreaterThan(0);
    expect(names.slice(tomb + 1)).toEqual(names.slice(tomb + 1).map(() => 'G2 again'));
    expect(names.at(-1)).toBe('G2 again');
  });
});
