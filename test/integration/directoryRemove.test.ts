// `presence directory remove` on the real PostgreSQL and broker: the subscriber's
// row (all its identities) is deleted and the directory-changes tombstone the
// event managers and group presence act on is published under its canonical key
// — whichever identity named it — and it leaves its groups in the group
// service (new versions through the outbox); an identity that is not ours deletes and
// publishes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeSubscriber } from '../../cli/commands/directory.ts';
import { GroupStore } from '../../services/group-service/groupStore.ts';
import { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { readTopic } from '../support/topicReader.ts';

const base = isolatedSettings('directory-remove', 3);
const s = { ...base, database: { ...base.database, url: testDatabaseUrl } };
const schema = `it_dirremove_${process.pid}`;
const dir = new SubscriberDirectory(testDatabaseUrl, schema, 100);
const groupSchema = `it_dirremove_groups_${process.pid}`;
const groups = new GroupStore(testDatabaseUrl, groupSchema);
const member = (n: number) => ({
  subscriber: `msisdn:+35194000000${n}`,
  uri: `sip:+35194000000${n}@ims.example.net`,
  role: null,
  displayName: null,
  attributes: {},
  share: true,
  sharedParts: [],
});
const group = (id: string, ns: number[]) => ({
  id,
  uri: `sip:${id}@groups.example.net`,
  name: id,
  attributes: {},
  adminPolicy: 'members-only' as const,
  members: ns.map(member),
});

beforeAll(async () => {
  await applyIsolated(s);
  await dir.migrate();
  await dir.provision([
    { msisdn: '+351940000001', imsi: '001010000000041', aor: 'sip:dora@ims.example.net' },
    { msisdn: '+351940000002', imsi: null, aor: null },
  ]);
  await groups.migrate();
  for (const g of [group('r1', [1, 2]), group('r2', [2, 1]), group('r3', [2])]) await groups.create(g);
});

afterAll(async () => {
  await dir.close();
  await groups.close();
  await dropSchema(schema);
  await dropSchema(groupSchema);
  await cleanupIsolated(s);
});

describe('presence directory remove', () => {
  it('deletes the whole row and publishes the tombstone under the canonical key', { timeout: 60_000 }, async () => {
    expect(await removeSubscriber(s, '001010000000041', { publish: true, directorySchema: schema, groupSchema })).toBe('msisdn:+351940000001');
    const left = await dir.resolveMany([
      { kind: 'msisdn', value: '+351940000001' },
      { kind: 'aor', value: 'sip:dora@ims.example.net' },
      { kind: 'msisdn', value: '+351940000002' },
    ]);
    expect([...left.values()].map((e) => e?.key ?? null)).toEqual([null, null, 'msisdn:+351940000002']);
    expect(await removeSubscriber(s, 'sip:dora@ims.example.net', { publish: true, directorySchema: schema, groupSchema })).toBeUndefined();
    // It left its groups in the group service too: each a new version (its outbox record), the others untouched.
    const after = await Promise.all(['r1', 'r2', 'r3'].map((id) => groups.get(id)));
    expect(after.map((g) => g!.members.map((m) => m.subscriber))).toEqual([['msisdn:+351940000002'], ['msisdn:+351940000002'], ['msisdn:+351940000002']]);
    const { rows } = await groups.pool.query<{ n: string }>(`select count(*) as n from group_outbox`);
    expect(Number(rows[0]!.n)).toBe(5); // 3 creations + 2 removals (no relay runs here)
    expect(await removeSubscriber(s, '+351940000002', { publish: false, directorySchema: schema, groupSchema: false })).toBe('msisdn:+351940000002');
    expect((await groups.get('r3'))!.members).toHaveLength(1); // --no-groups

    const recs = await readTopic({
      brokers: s.kafka.brokers,
      topic: topicName(s.topics.prefix, 'directory-changes' as never),
      partitions: 3,
      count: 1,
      timeoutMs: 20_000,
      settleMs: 1500,
    });
    expect(recs.map((r) => [r.key?.toString(), r.value])).toEqual([['msisdn:+351940000001', null]]);
  });
});
