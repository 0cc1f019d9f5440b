// The group service on the real database, broker and registry.
// - Huawei Fig 6 (user A establishes group A, validated as in Action 502) and
//   Fig 7 (users B and C join, B with an authorization policy toward the
//   group): every change is a Group record on the groups topic, keyed by the
//   group, with increasing versions; the last one equals what GET returns.
// - The HTTP contract: 400 naming the field, 404, 405 + Allow, 409, 412, 413,
//   415; PATCH as a merge; DELETE → tombstone.
// - Crash safety of the outbox: a service process killed (SIGKILL) after its
//   commits and before any publish loses nothing — a relay started later
//   publishes the changes; a relay that dies before or after publishing
//   (fault hooks) publishes again, never loses, and versions let a consumer
//   drop the repeat.
// - Two relays on one outbox publish a group's versions in order.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGroupService, type GroupService } from '../../services/group-service/groupService.ts';
import { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import type { Group } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { readTopic } from '../support/topicReader.ts';
import { eventually, sleep } from '../support/wait.ts';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const base = isolatedSettings('groups', 2);
const s = { ...base, database: { ...base.database, url: testDatabaseUrl }, identity: { ...base.identity, countryCode: '351' } };
const schemas = {
  main: `it_groups_${process.pid}`,
  crash: `it_groups_crash_${process.pid}`,
  faults: `it_groups_faults_${process.pid}`,
  pair: `it_groups_pair_${process.pid}`,
  dir: `it_groups_dir_${process.pid}`,
};
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const GROUPS_TOPIC = topicName(s.topics.prefix, 'groups');
const GROUPS_PARTITIONS = 6;

interface Published {
  key: string;
  offset: number;
  partition: number;
  value: Group | null;
}

/** Every record on the groups topic so far, decoded, in offset order per partition. */
async function publishedRecords(): Promise<Published[]> {
  const msgs = await readTopic({ brokers: s.kafka.brokers, topic: GROUPS_TOPIC, partitions: GROUPS_PARTITIONS, count: 0, settleMs: 1500, timeoutMs: 20_000 });
  const out: Published[] = [];
  for (const m of msgs)
    out.push({ key: m.key!.toString(), offset: m.offset, partition: m.partition, value: m.value ? await serde.decode('groups', m.value) : null });
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

/** Waits until the group has at least n records on the topic; returns them in offset order. */
async function recordsOf(groupId: string, n: number, timeoutMs = 30_000): Promise<Published[]> {
  let mine: Published[] = [];
  return eventually(
    () => `group ${groupId}: ${n} records on ${GROUPS_TOPIC} (${mine.length} so far)`,
    async () => {
      mine = (await publishedRecords()).filter((r) => r.key === groupId);
      return mine.length >= n && mine;
    },
    { timeoutMs, intervalMs: 300 },
  );
}

const versionsOf = (rs: Published[]) => rs.map((r) => (r.value ? r.value.version : 'tombstone'));

let directory: SubscriberDirectory;
let svc: GroupService;
let url: string;
const others: GroupService[] = [];

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- arbitrary JSON bodies, asserted field by field
async function call(method: string, p: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; json: any }> {
  const init: RequestInit = { method, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(`${url}${p}`, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  await applyIsolated(s);
  await serde.loadIds();
  directory = new SubscriberDirectory(testDatabaseUrl, schemas.dir);
  await directory.migrate();
  // Carol is known by IMSI and SIP AoR only: her key is the IMSI, and the group must use it.
  await directory.provision([
    { msisdn: '+351910000001', imsi: '268010000000001', aor: null },
    { msisdn: '+351910000002', imsi: '268010000000002', aor: null },
    { msisdn: null, imsi: '268010000000003', aor: 'sip:carol@ims.example.net' },
  ]);
  svc = await startGroupService(s, { port: 0, schema: schemas.main, directory, relayOptions: { pollMs: 100 } });
  url = `http://127.0.0.1:${svc.port}`;
});

afterAll(async () => {
  await svc?.stop();
  for (const o of others) await o.stop().catch(() => {});
  await directory?.close();
  await cleanupIsolated(s);
  for (const schema of Object.values(schemas)) await dropSchema(schema);
});

describe('group service', () => {
  it('Fig 6-7: group A established, users B and C join; the groups topic carries every version, keyed by the group', async () => {
    // Fig 6, Actions 601-602: user A's establishment request, validated, then 201.
    const created = await call('POST', '/groups', {
      id: 'group-a',
      uri: 'sip:group-a@groups.example.net',
      name: 'Group A',
      attributes: { topic: 'football' },
      members: [{ uri: 'tel:+351910000001', role: 'admin', displayName: 'User A' }],
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/groups/group-a');
    expect(created.headers.get('etag')).toBe(`"${created.json.version}"`);
    expect(created.json.members).toEqual([
      { subscriber: 'msisdn:+351910000001', uri: 'tel:+351910000001', role: 'admin', displayName: 'User A', attributes: {}, share: true, sharedParts: [] },
    ]);

    // Fig 7, Actions 701-704: user B joins with its authorization policy (share basic status and call state only).
    const b = await call('PUT', `/groups/group-a/members/${encodeURIComponent('tel:+351910000002')}`, {
      role: 'member',
      displayName: 'User B',
      sharedParts: ['call', 'basic'],
    });
    expect(b.status).toBe(201);
    expect(b.headers.get('location')).toBe(`/groups/group-a/members/${encodeURIComponent('tel:+351910000002')}`);
    // User C is known to the directory by SIP AoR; the member's key is the directory's (her IMSI).
    const c = await call('PUT', `/groups/group-a/members/${encodeURIComponent('sip:carol@ims.example.net')}`, { displayName: 'User C', share: false });
    expect(c.status).toBe(201);
    expect(c.json.members[2]).toMatchObject({ subscriber: 'imsi:268010000000003', uri: 'sip:carol@ims.example.net', share: false });
    // B changes its display name: an update (200), not a second B.
    const b2 = await call('PUT', `/groups/group-a/members/${encodeURIComponent('msisdn:+351910000002')}`, {
      role: 'member',
      displayName: 'Bee',
      sharedParts: ['basic', 'call'],
    });
    expect(b2.status).toBe(200);
    expect(b2.json.members).toHaveLength(3);

    const read = await call('GET', '/groups/group-a');
    expect(read.status).toBe(200);
    expect(read.json.members.map((m: { subscriber: string }) => m.subscriber)).toEqual([
      'msisdn:+351910000001',
      'msisdn:+351910000002',
      'imsi:268010000000003',
    ]);
    expect(read.json.members[1]).toEqual({
      subscriber: 'msisdn:+351910000002',
      uri: 'tel:+351910000002',
      role: 'member',
      displayName: 'Bee',
      attributes: {},
      share: true,
      sharedParts: ['basic', 'call'],
    });

    const records = await recordsOf('group-a', 4);
    const versions = versionsOf(records) as number[];
    expect(versions).toHaveLength(4);
    for (let i = 1; i < versions.length; i++) expect(versions[i]).toBeGreaterThan(versions[i - 1]!);
    expect(records.map((r) => r.value!.members.length)).toEqual([1, 2, 3, 3]);
    expect(records.at(-1)!.value).toEqual(read.json);
    expect(await svc.store.outboxBacklog()).toBe(0);
    const health = await call('GET', '/healthz');
    expect(health.json).toMatchObject({ database: 'up', outboxBacklog: 0, relay: { failures: 0 } });
    expect(health.json.relay.published).toBeGreaterThanOrEqual(4);
  });

  it('HTTP contract: 400 naming the field, 404, 405 + Allow, 409, 412, 413, 415; PATCH merges; DELETE publishes a tombstone', async () => {
    const bad = await call('POST', '/groups', { uri: 'mailto:x@example.net', name: 'X' });
    expect(bad).toMatchObject({ status: 400, json: { field: 'uri' } });
    expect(
      (await call('POST', '/groups', { uri: 'sip:x@example.net', name: 'X', members: [{ uri: 'sip:x@example.net', sharedParts: ['mood'] }] })).json.field,
    ).toBe('members[0].sharedParts[0]');
    expect(
      (await call('POST', '/groups', { uri: 'sip:x@example.net', name: 'X', members: [{ uri: 'tel:+351910000002' }, { uri: 'msisdn:+351910000002' }] })).json
        .field,
    ).toBe('members[1].uri');
    expect((await call('POST', '/groups', '{"uri": "sip:x@example.net", ')).status).toBe(400);
    expect((await call('POST', '/groups')).status).toBe(400);
    const notJson = await fetch(`${url}/groups`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'uri=sip:x@example.net' });
    expect(notJson.status).toBe(415);
    const huge = await fetch(`${url}/groups`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uri: 'sip:h@example.net', name: 'x'.repeat(400_000) }),
    });
    expect(huge.status).toBe(413);

    const put = await call('PUT', '/groups');
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, POST');
    expect((await call('POST', '/groups/group-a')).headers.get('allow')).toBe('GET, PATCH, DELETE');
    expect((await call('PATCH', '/groups/group-a/members/tel%3A%2B351910000001', {})).headers.get('allow')).toBe('GET, PUT, DELETE');
    expect((await call('GET', '/groups/nope')).status).toBe(404);
    expect((await call('GET', '/nope')).status).toBe(404);
    expect((await call('PUT', '/groups/nope/members/tel%3A%2B351910000001', {})).status).toBe(404);
    expect((await call('DELETE', '/groups/group-a/members/sip%3Anobody%40example.net')).status).toBe(404);

    const dup = await call('POST', '/groups', { uri: 'SIP:group-a@Groups.Example.NET', name: 'Copy' });
    expect(dup).toMatchObject({ status: 409, json: { field: 'uri' } });
    expect((await call('POST', '/groups', { id: 'group-a', uri: 'sip:other@groups.example.net', name: 'Copy' })).json.field).toBe('id');

    const g = await call('POST', '/groups', {
      id: 'group-b',
      uri: 'sip:group-b@groups.example.net',
      name: 'B',
      attributes: { topic: 'chess', city: 'Lisbon' },
    });
    expect(g.status).toBe(201);
    const stale = await call('PATCH', '/groups/group-b', { name: 'B2' }, { 'if-match': `"${g.json.version - 1}"` });
    expect(stale).toMatchObject({ status: 412, json: { version: g.json.version } });
    expect((await call('PATCH', '/groups/group-b', { name: 'B2', version: g.json.version + 1 })).status).toBe(412);
    const patched = await call(
      'PATCH',
      '/groups/group-b',
      { name: 'Chess club', attributes: { city: null, level: 'beginner' }, adminPolicy: 'anyone' },
      { 'if-match': `"${g.json.version}"` },
    );
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ name: 'Chess club', attributes: { topic: 'chess', level: 'beginner' }, adminPolicy: 'anyone' });
    expect(patched.json.attributes.city).toBeUndefined();
    expect((await call('PATCH', '/groups/group-b', { adminPolicy: 'nobody' })).json.field).toBe('adminPolicy');

    await call('PUT', `/groups/group-b/members/${encodeURIComponent('tel:+351910000001')}`);
    const removed = await call('DELETE', `/groups/group-b/members/${encodeURIComponent('tel:+351910000001')}`);
    expect(removed.status).toBe(200);
    expect(removed.json.members).toEqual([]);

    const list = await call('GET', '/groups?limit=1');
    expect(list.json.groups.map((x: Group) => x.groupId)).toEqual(['group-a']);
    expect(list.json.next).toBe('/groups?limit=1&after=group-a');
    expect((await call('GET', list.json.next)).json.groups.map((x: Group) => x.groupId)).toEqual(['group-b']);
    expect((await call('GET', '/groups?limit=0')).json.field).toBe('limit');

    const del = await call('DELETE', '/groups/group-b');
    expect(del.status).toBe(204);
    expect((await call('GET', '/groups/group-b')).status).toBe(404);
    // created, patched, member added, member removed, deleted
    const records = await recordsOf('group-b', 5);
    expect(records.map((r) => r.value?.name ?? null)).toEqual(['B', 'Chess club', 'Chess club', 'Chess club', null]);
    expect(records.at(-1)!.value).toBeNull();
    // The group's uri is free again, and a group re-created under the same id continues the versions.
    const again = await call('POST', '/groups', { id: 'group-b', uri: 'sip:group-b@groups.example.net', name: 'B again' });
    expect(again.status).toBe(201);
    expect(again.json.version).toBeGreaterThan(Number(del.headers.get('etag')!.replaceAll('"', '')));
  });

  it('crash between commit and publish: a service killed with SIGKILL after its commits loses nothing — a relay started later publishes them', async () => {
    // The service as its own process, its relay off: the commits happen, the publishes cannot.
    const child: ChildProcess = spawn(
      process.execPath,
      [path.join(repoRoot, 'bin/presence.mjs'), 'run', 'group-service', '--port', '0', '--schema', schemas.crash, '--no-relay', '--no-directory'],
      {
        cwd: repoRoot,
        env: { ...process.env, PRESENCE_TOPIC_PREFIX: s.topics.prefix, PRESENCE_DATABASE_URL: testDatabaseUrl, PRESENCE_COUNTRY_CODE: '351' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let log = '';
    child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    const deadline = Date.now() + 30_000;
    let port: string | undefined;
    while (!(port = /group service on http:\/\/127\.0\.0\.1:(\d+)/.exec(log)?.[1])) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`group service did not start: ${log}`);
      await sleep(100);
    }
    const at = `http://127.0.0.1:${port}`;
    const post = await fetch(`${at}/groups`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'group-crash', uri: 'sip:crash@groups.example.net', name: 'Crash' }),
    });
    expect(post.status).toBe(201);
    const put = await fetch(`${at}/groups/group-crash/members/${encodeURIComponent('tel:+351910000009')}`, { method: 'PUT' });
    expect(put.status).toBe(201);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect((await publishedRecords()).filter((r) => r.key === 'group-crash')).toEqual([]);

    // A new instance on the same tables: its relay finds both committed changes in the outbox.
    const restarted = await startGroupService(s, { port: 0, schema: schemas.crash, relayOptions: { pollMs: 100 } });
    others.push(restarted);
    const records = await recordsOf('group-crash', 2);
    expect(records.map((r) => r.value!.members.map((m) => m.subscriber))).toEqual([[], ['msisdn:+351910000009']]);
    expect(await restarted.store.outboxBacklog()).toBe(0);
  });

  it('a relay failing before or after publishing retries: nothing lost, a repeat carries the same version', async () => {
    let failBefore = 1;
    let failAfter = 1;
    const faulty = await startGroupService(s, {
      port: 0,
      schema: schemas.faults,
      relayOptions: {
        pollMs: 100,
        maxBackoffMs: 300,
        beforePublish: () => {
          if (failBefore-- > 0) throw new Error('injected: crash before publish');
        },
        afterPublish: () => {
          if (failAfter-- > 0) throw new Error('injected: crash after Kafka acknowledged, before the outbox delete');
        },
      },
    });
    others.push(faulty);
    const res = await fetch(`http://127.0.0.1:${faulty.port}/groups`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'group-faults', uri: 'sip:faults@groups.example.net', name: 'Faults' }),
    });
    expect(res.status).toBe(201);
    const { version } = (await res.json()) as Group;
    const records = await recordsOf('group-faults', 2);
    await sleep(1000);
    // Published twice (the first acknowledgement's delete was "lost"), same version both times.
    expect(versionsOf((await publishedRecords()).filter((r) => r.key === 'group-faults'))).toEqual([version, version]);
    expect(records[0]!.value).toEqual(records[1]!.value);
    expect(faulty.relay!.stats.failures).toBe(2);
    expect(await faulty.store.outboxBacklog()).toBe(0);
  });

  it("two service instances relaying one outbox publish each group's versions in order", async () => {
    const one = await startGroupService(s, { port: 0, schema: schemas.pair, relayOptions: { pollMs: 20, batchSize: 3 } });
    const two = await startGroupService(s, { port: 0, schema: schemas.pair, relayOptions: { pollMs: 20, batchSize: 3 } });
    others.push(one, two);
    const at = [one, two].map((x) => `http://127.0.0.1:${x.port}`);
    const create = await fetch(`${at[0]}/groups`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'group-pair', uri: 'sip:pair@groups.example.net', name: 'Pair' }),
    });
    expect(create.status).toBe(201);
    const versions = [((await create.json()) as Group).version];
    // 30 changes alternating between the instances, 3 at a time concurrently.
    for (let i = 0; i < 30; i += 3) {
      const rs = await Promise.all(
        [0, 1, 2].map((j) =>
          fetch(`${at[(i + j) % 2]}/groups/group-pair/members/${encodeURIComponent(`tel:+35191000${String(1000 + i + j)}`)}`, {
            method: 'PUT',
            headers: { 'content-type': 'application/json' },
            body: '{}',
          }),
        ),
      );
      for (const r of rs) {
        expect(r.status).toBe(201);
        versions.push(((await r.json()) as Group).version);
      }
    }
    const records = await recordsOf('group-pair', 31);
    const published = versionsOf(records) as number[];
    expect(published).toEqual([...versions].sort((a, b) => a - b));
    expect(records.at(-1)!.value!.members).toHaveLength(30);
    expect(one.relay!.stats.published + two.relay!.stats.published).toBe(31);
  });
  it('a change whose record Kafka would refuse is turned away (413), so the outbox never jams on it', async () => {
    const big = await call('POST', '/groups', { id: 'group-big', uri: 'sip:big@groups.example.net', name: 'Big' });
    expect(big.status).toBe(201);
    // 64 attributes of 1,000 characters per member are within the per-member limits; ~16 members pass 1 MB.
    const attributes = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`a${i}`, 'x'.repeat(1000)]));
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++)
      statuses.push((await call('PUT', `/groups/group-big/members/${encodeURIComponent(`tel:+35191200${String(1000 + i)}`)}`, { attributes })).status);
    expect(statuses.slice(0, 10).every((x) => x === 201)).toBe(true);
    expect(statuses).toContain(413);
    expect(statuses.every((x) => x === 201 || x === 413)).toBe(true);
    // The relay is not stuck: a later change of another group reaches Kafka, and the outbox drains.
    const after = await call('POST', '/groups', { id: 'group-after-big', uri: 'sip:after-big@groups.example.net', name: 'After' });
    expect(after.status).toBe(201);
    expect(versionsOf(await recordsOf('group-after-big', 1, 20_000))).toEqual([after.json.version]);
    expect(await svc.store.outboxBacklog()).toBe(0);
  }, 90_000);
});
