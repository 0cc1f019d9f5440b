// Subscriber deletion reaches group presence on the real broker and registry:
// a directory-changes tombstone (what Debezium writes when a directory row is
// deleted) drops the subscriber from every group it is in — the group watchers
// get it as `terminated;reason=noresource`, the documents stop listing it — and
// a later version of a group that still names it (the group service's rows)
// does not bring it back, until the subscriber is provisioned again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMultipart } from '../../presence-document/multipart.ts';
import { parseRlmi } from '../../presence-document/rlmi.ts';
import type { Group, GroupMember, NotifyRequest, Presence, Subscription } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { startGroupPresence, type GroupPresenceService } from '../../streams/group-presence/groupPresenceService.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { readTopic } from '../support/topicReader.ts';
import { eventually } from '../support/wait.ts';

const s = isolatedSettings('group-sub-deletion', 3);
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const topic = (n: Parameters<typeof topicName>[1]) => topicName(s.topics.prefix, n as never);
const T = Date.UTC(2026, 0, 1, 8);
let producer: RecordProducer;
let gp: GroupPresenceService | undefined;

const m = (n: number): GroupMember => ({
  subscriber: `msisdn:+35192000000${n}`,
  uri: `sip:+35192000000${n}@ims.example.net`,
  role: 'driver',
  displayName: `Member ${n}`,
  attributes: {},
  share: true,
  sharedParts: [],
});
const A = m(1);
const B = m(2); // deleted
const C = m(3);

const group = (id: string, version: number, members: GroupMember[]): Group => ({
  groupId: id,
  version,
  uri: `sip:${id}@groups.example.net`,
  name: id,
  attributes: {},
  members,
  adminPolicy: 'members-only',
  updatedAt: T,
});

const presence = (x: GroupMember, version: number): Presence => ({
  subscriber: x.subscriber,
  version,
  basic: 'open',
  networkState: 'attached',
  callState: 'idle',
  connectability: 'connectable',
  servingNode: null,
  cellGlobalId: null,
  activities: null,
  note: null,
  pidf: `<?xml version="1.0" encoding="UTF-8"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="${x.uri}"><tuple id="t1"><status><basic>open</basic></status></tuple></presence>`,
  dialogs: null,
  updatedAt: T + version,
});

const subscribe = (groupId: string, watcher: GroupMember, n: number): Subscription => ({
  contactVerified: true,
  dialogFilter: null,
  requestId: `del-${n}`,
  receivedAt: Date.now(),
  presentity: `group:${groupId}`,
  presentityUri: `sip:${groupId}@groups.example.net`,
  watcherUri: watcher.uri,
  event: 'presence',
  expires: 3600,
  callId: `del-dialog-${n}`,
  watcherTag: `wt${n}`,
  cseq: 1,
  contact: `sip:watcher${n}@127.0.0.1:5070`,
  routeSet: [],
  accept: ['multipart/related', 'application/rlmi+xml', 'application/pidf+xml'],
  supported: ['eventlist'],
  body: null,
  frontEnd: 'fe-test',
  localTag: `fe-del-${n}`,
});

async function notifies(callId: string, count: number): Promise<NotifyRequest[]> {
  let got: NotifyRequest[] = [];
  return eventually(
    () => `${count} NOTIFYs on ${callId} (got ${got.length})`,
    async () => {
      const recs = await readTopic({ brokers: s.kafka.brokers, topic: topic('notify-requests'), partitions: 3, count: 0, timeoutMs: 10_000, settleMs: 1_000 });
      got = (await Promise.all(recs.map((r) => serde.decode('notify-requests', r.value!)))).filter((n) => n.callId === callId);
      return got.length >= count ? got : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
}

function resources(n: NotifyRequest): Record<string, string> {
  const boundary = /boundary="([^"]+)"/.exec(n.contentType!)![1]!;
  const rlmi = parseRlmi(parseMultipart(Buffer.from(n.body!), boundary)[0]!.body);
  return Object.fromEntries(rlmi.resources.map((r) => [r.uri, [r.instances[0]!.state, r.instances[0]!.reason].filter(Boolean).join(';')]));
}

async function latestDocuments() {
  const recs = await readTopic({ brokers: s.kafka.brokers, topic: topic('group-presence'), partitions: 6, count: 0, timeoutMs: 10_000, settleMs: 1_000 });
  const latest = new Map<string, Awaited<ReturnType<typeof serde.decode<'group-presence'>>>>();
  for (const r of recs) if (r.value) latest.set(r.key!.toString(), await serde.decode('group-presence', r.value));
  return latest;
}

const membersOf = async (groupId: string) => (await latestDocuments()).get(groupId)?.members.map((x) => x.subscriber);

beforeAll(async () => {
  await applyIsolated(s);
  await serde.loadIds();
  producer = new RecordProducer(s.kafka.brokers, 'it-gdel', 15_000);
  await producer.connect();
  gp = await startGroupPresence(s, { memberId: 'gdel-1' });
});

afterAll(async () => {
  await gp?.stop();
  await producer?.close();
  await cleanupIsolated(s);
});

describe('subscriber deletion in group presence', () => {
  it('drops a deleted subscriber from all its groups, tells group watchers noresource, and keeps it out of later versions', { timeout: 240_000 }, async () => {
    for (const x of [A, B, C]) await producer.send(topic('current-presence'), x.subscriber, serde.encode('current-presence', presence(x, 1)));
    await producer.send(topic('groups'), 'd1', serde.encode('groups', group('d1', 1, [A, B])));
    await producer.send(topic('groups'), 'd2', serde.encode('groups', group('d2', 1, [B, C])));
    await eventually(
      () => 'both groups with their members present',
      async () => {
        const docs = await latestDocuments();
        return docs.get('d1')?.availableCount === 2 && docs.get('d2')?.availableCount === 2 ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    await producer.send(topic('group-subscriptions'), 'd1', serde.encode('group-subscriptions', subscribe('d1', A, 1)));
    const [full] = await notifies('del-dialog-1', 1);
    expect(resources(full!)).toEqual({ [A.uri]: 'active', [B.uri]: 'active' });

    // B's directory row is deleted: Debezium's tombstone on directory-changes.
    await producer.send(topic('directory-changes'), B.subscriber, null);
    const ns = await notifies('del-dialog-1', 2);
    expect(ns[1]).toMatchObject({ subscriptionState: 'active', version: 2 });
    expect(resources(ns[1]!)).toEqual({ [B.uri]: 'terminated;noresource' });
    await eventually(
      () => 'documents without B',
      async () => ((await membersOf('d1'))?.join() === A.subscriber && (await membersOf('d2'))?.join() === C.subscriber ? true : undefined),
      { timeoutMs: 60_000, intervalMs: 500 },
    );

    // The group service still names B in the next version of d2 (its rows are its own): B stays out,
    // and B's presence published after the deletion reaches no group.
    await producer.send(topic('groups'), 'd2', serde.encode('groups', group('d2', 2, [B, C, A])));
    await producer.send(topic('current-presence'), B.subscriber, serde.encode('current-presence', presence(B, 2)));
    await eventually(
      () => 'd2 with C and A only',
      async () => ((await membersOf('d2'))?.join() === [C.subscriber, A.subscriber].join() ? true : undefined),
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect((await latestDocuments()).get('d2')!.members.map((x) => x.basic)).toEqual(['open', 'open']);

    // Provisioned again: the next group version that names B brings it back with its presence.
    await producer.send(
      topic('directory-changes'),
      B.subscriber,
      serde.encode('directory-changes', {
        id: 7,
        key: B.subscriber,
        msisdn: '+351920000002',
        imsi: null,
        aor: null,
        origin: 'provisioned',
        updated_at: '2026-01-01T08:00:00Z',
        __op: 'c',
      }),
    );
    await producer.send(topic('current-presence'), B.subscriber, serde.encode('current-presence', presence(B, 3)));
    await producer.send(topic('groups'), 'd1', serde.encode('groups', group('d1', 3, [A, B])));
    await eventually(
      () => 'd1 with B back and present',
      async () => {
        const d1 = (await latestDocuments()).get('d1');
        return d1?.members.map((x) => `${x.subscriber}=${x.basic}`).join() === `${A.subscriber}=open,${B.subscriber}=open` ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(gp!.groups.stats.deadLetters + gp!.members.stats.deadLetters).toBe(0);
    expect(gp!.members.stats.deletions).toBe(1);
  });
});
