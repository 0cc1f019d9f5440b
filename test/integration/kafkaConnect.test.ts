// Kafka Connect against the real stack: the embedded worker (connect-runtime
// from Maven Central, Debezium JDBC sink and PostgreSQL source, Apicurio's
// Avro converter), our connector configurations applied through the REST API,
// a replayed capture landing as rows in PostgreSQL, and a directory row's and
// the group service's membership changes reaching their topics by change data
// capture, as our registered Avro records.
//
// CDC needs wal_level=logical. When the machine's PostgreSQL runs with less
// (changing it needs a server restart), the CDC test starts a PostgreSQL of
// its own from the same binaries with wal_level=logical, and removes it after.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, chownSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { applyConnectors, cdcUnavailable, connectorStatus, deleteConnector } from '../../connectors/kafka-connect/connectApply.ts';
import { type ConnectorTargets, connectorSpecs } from '../../connectors/kafka-connect/connectorConfigs.ts';
import { GroupStore } from '../../services/group-service/groupStore.ts';
import { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { replayCaptures } from '../../taps/replay/replayCaptures.ts';
import { startConnectWorker, stopConnectWorker } from '../../infra/connect/connectWorker.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { startEventManager } from '../../streams/event-manager/eventManager.ts';
import { partitionOf } from '../../kafka/partitioner.ts';
import { withAdmin } from '../../kafka/kafkaAdmin.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { capture, haveCaptures, noCapturesReason } from '../support/captures.ts';
import { dropSchema, testDatabaseUrl, testSchema } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { readTopic } from '../support/topicReader.ts';
import { eventually } from '../support/wait.ts';

const PARTITIONS = 4;
const base = isolatedSettings('connect', PARTITIONS);
const s = { ...base, database: { ...base.database, url: testDatabaseUrl } };
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const schema = testSchema('connect');
const directory = new SubscriberDirectory(testDatabaseUrl, schema);
const db = new pg.Pool({ connectionString: testDatabaseUrl, max: 2 });
let connectUrl = '';
/** Set when this file started the worker, so it stops it again (a 0.5 GiB JVM the rest of the suite does not need). */
let startedWorker = false;
let ownPostgres: { dir: string; url: string } | undefined;

/** Connector and task states, for failure messages. */
async function states(names: string[]): Promise<string> {
  const out = [];
  for (const n of names) {
    const st = await connectorStatus(connectUrl, n);
    out.push(
      `${n}: ${st ? `${st.state} ${st.tasks.map((t) => `${t.state}${t.trace ? ` ${t.trace.split('\n').slice(0, 3).join(' ')}` : ''}`).join(' ')}` : 'missing'}`,
    );
  }
  return out.join('\n');
}

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A throwaway PostgreSQL with wal_level=logical, from the machine's PostgreSQL binaries. */
async function startLogicalPostgres(): Promise<{ dir: string; url: string }> {
  const bin = ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin'].find((d) => existsSync(path.join(d, 'initdb')));
  if (!bin) throw new Error('no PostgreSQL binaries (initdb) under /usr/lib/postgresql to start a logical-decoding server for the CDC test');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'presence-cdc-pg-'));
  const asRoot = process.getuid?.() === 0;
  // PostgreSQL refuses to run as root: run it as the postgres user then.
  if (asRoot)
    chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), Number(execFileSync('id', ['-g', 'postgres']).toString().trim()));
  const run = (cmd: string, args: string[]) =>
    execFileSync(asRoot ? 'runuser' : cmd, asRoot ? ['-u', 'postgres', '--', cmd, ...args] : args, { stdio: 'pipe' });
  const port = await freeTcpPort();
  run(path.join(bin, 'initdb'), ['-D', path.join(dir, 'data'), '-A', 'trust', '-U', 'postgres']);
  run(path.join(bin, 'pg_ctl'), [
    '-D',
    path.join(dir, 'data'),
    '-l',
    path.join(dir, 'log'),
    '-w',
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c wal_level=logical -c max_wal_senders=4 -c max_replication_slots=4`,
    'start',
  ]);
  return { dir, url: `postgres://postgres@127.0.0.1:${port}/postgres` };
}

function stopLogicalPostgres(p: { dir: string }): void {
  const bin = ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin'].find((d) => existsSync(path.join(d, 'pg_ctl')))!;
  const args = ['-D', path.join(p.dir, 'data'), '-m', 'immediate', 'stop'];
  try {
    if (process.getuid?.() === 0) execFileSync('runuser', ['-u', 'postgres', '--', path.join(bin, 'pg_ctl'), ...args], { stdio: 'pipe' });
    else execFileSync(path.join(bin, 'pg_ctl'), args, { stdio: 'pipe' });
  } catch {
    /* already stopped */
  }
  rmSync(p.dir, { recursive: true, force: true });
}

let targets: ConnectorTargets;
let names: string[] = [];

beforeAll(async () => {
  await applyIsolated(s);
  await serde.loadIds();
  await directory.migrate();
  const t0 = Date.now();
  // The worker is shared (one per machine, like the broker); each test file's connectors carry its topic prefix.
  const w = await startConnectWorker(loadSettings(), (l) => console.log(l));
  connectUrl = w.url;
  startedWorker = !w.alreadyRunning;
  console.log(
    `kafka-connect: ${w.alreadyRunning ? 'already running' : `started, REST answered after ${(w.readyMs / 1000).toFixed(1)}s`} (${((Date.now() - t0) / 1000).toFixed(1)}s in setup)`,
  );
  const cdcDb = (await cdcUnavailable(testDatabaseUrl)) ? (ownPostgres = await startLogicalPostgres()).url : testDatabaseUrl;
  if (ownPostgres)
    console.log(`CDC: the machine's PostgreSQL is not wal_level=logical; using a PostgreSQL of the test's own at ${new URL(ownPostgres.url).host}`);
  targets = { sinkSchema: schema, sinkDatabaseUrl: testDatabaseUrl, directorySchema: schema, groupSchema: schema, sourceDatabaseUrl: cdcDb };
  names = connectorSpecs(s, targets).map((c) => c.name);
}, 300_000);

afterAll(async () => {
  for (const n of names) await deleteConnector(connectUrl, n).catch(() => {});
  if (!ownPostgres) {
    // Our replication slots on the shared server would keep WAL forever.
    await db
      .query(`select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name like $1 and not active`, [
        `${s.topics.prefix.replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '')}%`,
      ])
      .catch(() => {});
  }
  if (ownPostgres) stopLogicalPostgres(ownPostgres);
  if (startedWorker) console.log(`kafka-connect: ${await stopConnectWorker(loadSettings())} (started by this file)`);
  await directory.close();
  await db.end();
  await dropSchema(schema);
  await cleanupIsolated(s);
}, 120_000);

describe('Kafka Connect integration', () => {
  it('applies the connector configurations idempotently through the REST API', async () => {
    const first = await applyConnectors(s, connectUrl, { targets, only: 'sink' });
    expect(first.map((r) => r.result)).toEqual(['created', 'created']);
    const again = await applyConnectors(s, connectUrl, { targets, only: 'sink' });
    expect(again.map((r) => r.result)).toEqual(['updated', 'updated']);
    // The tables come from our Avro schemas: timestamps as timestamptz, the key as primary key.
    const cols = await db.query<{ table_name: string; column_name: string; data_type: string }>(
      `select table_name, column_name, data_type from information_schema.columns where table_schema = $1 order by table_name, ordinal_position`,
      [schema],
    );
    const typeOf = (t: string, c: string) => cols.rows.find((r) => r.table_name === t && r.column_name === c)?.data_type;
    expect(typeOf('current_presence', 'updated_at')).toBe('timestamp with time zone');
    expect(typeOf('current_presence', 'network_state')).toBe('text');
    expect(typeOf('group_presence', 'member_count')).toBe('integer');
    expect(typeOf('group_presence', 'members')).toBeUndefined();
  }, 120_000);

  it.skipIf(!haveCaptures)(
    `lands a replayed capture's current presence as one row per subscriber, and deletes on a tombstone${haveCaptures ? '' : ` (skipped: ${noCapturesReason})`}`,
    async () => {
      await directory.provision([
        { imsi: '001011356567851', msisdn: null, aor: null },
        { imsi: null, msisdn: '+3933399708', aor: null },
      ]);
      const em = await startEventManager(s, { memberId: 'it-connect', rulesSchema: schema });
      try {
        const replayedAt = Date.now();
        await replayCaptures(s, [capture('ss7/map-location-update-m3ua.pcap'), capture('ss7/isup-call-m3ua-draft6.pcap')], {
          speed: Infinity,
          unknown: 'drop',
          directory,
        });
        const rows = await eventually(
          'two current_presence rows',
          async () => {
            const r = await db.query(
              `select subscriber, version, basic, network_state, call_state, updated_at, pidf from ${schema}.current_presence order by subscriber`,
            );
            return r.rows.length >= 2 ? r.rows : undefined;
          },
          { timeoutMs: 90_000, intervalMs: 200 },
        ).catch(async (e) => {
          throw new Error(`${(e as Error).message}\n${await states(names)}`);
        });
        const landedMs = Date.now() - replayedAt;
        // The row holds the latest record of each subscriber (upserted, not appended).
        const records = await readTopic({
          brokers: s.kafka.brokers,
          topic: topicName(s.topics.prefix, 'current-presence'),
          partitions: PARTITIONS,
          count: 2,
          settleMs: 3000,
        });
        const latest = new Map<string, Awaited<ReturnType<typeof serde.decode<'current-presence'>>>>();
        for (const m of records) {
          const p = await serde.decode('current-presence', m.value!);
          latest.set(p.subscriber, p);
        }
        const settled = await eventually(
          'rows at the latest versions',
          async () => {
            const r = await db.query(
              `select subscriber, version, basic, network_state, call_state, updated_at, pidf from ${schema}.current_presence order by subscriber`,
            );
            return r.rows.every((row) => Number(row.version) === Number(latest.get(row.subscriber)?.version)) ? r.rows : undefined;
          },
          { timeoutMs: 90_000, intervalMs: 200 },
        );
        expect(settled.map((r) => r.subscriber)).toEqual(['imsi:001011356567851', 'msisdn:+3933399708']);
        for (const row of settled) {
          const p = latest.get(row.subscriber)!;
          expect(row).toMatchObject({ basic: p.basic, network_state: p.networkState, call_state: p.callState, pidf: p.pidf });
          expect((row.updated_at as Date).getTime()).toBe(p.updatedAt);
        }
        expect(settled.find((r) => r.subscriber === 'imsi:001011356567851')).toMatchObject({ network_state: 'attached', basic: 'open' });
        console.log(`landed ${rows.length} current_presence rows (${records.length} records) ${landedMs} ms after the replay started`);

        // A tombstone for a subscriber deletes its row.
        const producer = new RecordProducer(s.kafka.brokers, 'it-connect-tombstone');
        await producer.connect();
        try {
          await producer.send(topicName(s.topics.prefix, 'current-presence'), 'msisdn:+3933399708', null);
        } finally {
          await producer.close();
        }
        await eventually(
          'the tombstoned row to go',
          async () => {
            const r = await db.query(`select 1 from ${schema}.current_presence where subscriber = 'msisdn:+3933399708'`);
            return r.rows.length === 0;
          },
          { timeoutMs: 90_000, intervalMs: 200 },
        );
      } finally {
        await em.stop();
      }
    },
    240_000,
  );

  it('lands group presence documents (members, which have no column, left out)', async () => {
    const updatedAt = Date.parse('2026-11-25T12:34:56.789Z');
    const doc = {
      groupId: 'g-connect',
      version: 3,
      memberCount: 2,
      availableCount: 1,
      contentType: 'multipart/related',
      document: '<list/>',
      updatedAt,
      uri: 'sip:g-connect@example.net',
      name: 'Connect test',
      adminPolicy: 'members-only',
      groupInfo: '<group/>',
      members: [
        {
          subscriber: 'msisdn:+15550001',
          uri: 'sip:+15550001@example.net',
          role: null,
          displayName: null,
          attributes: {},
          share: true,
          sharedParts: [],
          basic: 'open',
          pidf: null,
        },
      ],
    };
    const producer = new RecordProducer(s.kafka.brokers, 'it-connect-group');
    await producer.connect();
    try {
      await producer.send(topicName(s.topics.prefix, 'group-presence'), doc.groupId, serde.encode('group-presence', doc));
    } finally {
      await producer.close();
    }
    const row = await eventually(
      'the group_presence row',
      async () => {
        const r = await db.query(`select * from ${schema}.group_presence where group_id = 'g-connect'`);
        return r.rows[0];
      },
      { timeoutMs: 90_000, intervalMs: 200 },
    ).catch(async (e) => {
      throw new Error(`${(e as Error).message}\n${await states(names)}`);
    });
    expect(row).toMatchObject({ member_count: 2, available_count: 1, uri: 'sip:g-connect@example.net', admin_policy: 'members-only', document: '<list/>' });
    expect(Number(row.version)).toBe(3);
    expect((row.updated_at as Date).getTime()).toBe(updatedAt);
  }, 120_000);

  it('captures a subscriber directory change from PostgreSQL into directory-changes, keyed by subscriber', async () => {
    const source = new SubscriberDirectory(targets.sourceDatabaseUrl, schema);
    await source.migrate();
    try {
      await source.provision([{ imsi: '001010000000001', msisdn: '+15550100', aor: null }]);
      // A source whose table does not exist yet is refused with the reason, not left failing in the worker.
      const groupName = names.find((n) => n.includes('group-members-cdc'))!;
      const refused = await applyConnectors(s, connectUrl, { targets, names: [groupName] });
      expect(refused).toEqual([{ name: groupName, result: 'refused', reason: expect.stringContaining(`${schema}.group_members does not exist yet`) }]);
      // A registry without our record (no `topics apply` for that prefix) is refused too: the converter writes with the registered schema.
      const unapplied = { ...s, topics: { ...s.topics, prefix: `${s.topics.prefix}unapplied.` } };
      const unappliedName = connectorSpecs(unapplied, targets).find((c) => c.name.includes('directory-cdc'))!.name;
      expect(await applyConnectors(unapplied, connectUrl, { targets, names: [unappliedName] })).toEqual([
        {
          name: unappliedName,
          result: 'refused',
          reason: expect.stringContaining('directory-changes-value is not registered; run `presence topics apply` first'),
        },
      ]);
      const directoryName = names.find((n) => n.includes('directory-cdc'))!;
      const applied = await applyConnectors(s, connectUrl, { targets, names: [directoryName] });
      expect(applied).toEqual([{ name: directoryName, result: 'created' }]);
      const topic = topicName(s.topics.prefix, 'directory-changes');
      const decodeAll = async (n: number) => {
        const msgs = await readTopic({ brokers: s.kafka.brokers, topic, partitions: PARTITIONS, count: n, timeoutMs: 120_000 });
        return Promise.all(msgs.map(async (m) => ({ m, v: m.value ? await serde.decode('directory-changes', m.value) : null })));
      };
      const snap = await decodeAll(1).catch(async (e) => {
        throw new Error(`${(e as Error).message}\n${await states([directoryName])}`);
      });
      expect(snap[0]!.m.key!.toString()).toBe('msisdn:+15550100');
      expect(snap[0]!.m.partition).toBe(partitionOf('msisdn:+15550100', PARTITIONS));
      expect(snap[0]!.v).toMatchObject({ key: 'msisdn:+15550100', imsi: '001010000000001', origin: 'provisioned', __op: 'r' });
      expect(snap[0]!.m.value!.readUInt32BE(1)).toBe(serde.schemaIdOf('directory-changes'));

      // The change: an AoR learned for the subscriber.
      const changedAt = Date.now();
      await source.pool.query(`update subscribers set aor = 'sip:+15550100@ims.example.net', updated_at = now() where key = 'msisdn:+15550100'`);
      const all = await decodeAll(2);
      const latencyMs = Date.now() - changedAt;
      const change = all.find((r) => r.v?.__op === 'u');
      expect(change, JSON.stringify(all.map((r) => r.v))).toBeDefined();
      expect(change!.m.key!.toString()).toBe('msisdn:+15550100');
      expect(change!.v).toMatchObject({ key: 'msisdn:+15550100', aor: 'sip:+15550100@ims.example.net' });
      console.log(`directory change reached ${topic} within ${latencyMs} ms (read from the beginning each time)`);
    } finally {
      await source.close();
    }
  }, 240_000);

  it('captures group membership changes from PostgreSQL into group-member-changes, keyed by group, as our GroupMemberChange', async () => {
    // The group service's own tables, made by its own migration, in the CDC database.
    const groups = new GroupStore(targets.sourceDatabaseUrl, schema);
    await groups.migrate();
    try {
      const groupId = 'g-cdc-friends';
      const ann = {
        subscriber: 'msisdn:+15550201',
        uri: 'tel:+15550201',
        role: 'owner',
        displayName: 'Ann',
        attributes: { team: 'blue' },
        share: true,
        sharedParts: [],
      };
      const bob = {
        subscriber: 'msisdn:+15550202',
        uri: 'tel:+15550202',
        role: null,
        displayName: null,
        attributes: {},
        share: false,
        sharedParts: ['basic', 'note'],
      };
      await groups.create({ id: groupId, uri: `sip:${groupId}@example.net`, name: 'CDC friends', attributes: {}, adminPolicy: 'members-only', members: [ann] });
      const name = names.find((n) => n.includes('group-members-cdc'))!;
      expect(await applyConnectors(s, connectUrl, { targets, names: [name] })).toEqual([{ name, result: 'created' }]);

      // Group-keyed: the same partition count as `groups`, so group-level consumers find a group's members on its partition.
      const topic = topicName(s.topics.prefix, 'group-member-changes');
      const partitions = await withAdmin(s.kafka.brokers, async (admin) => {
        const md = await admin.fetchTopicMetadata({ topics: [topic, topicName(s.topics.prefix, 'groups')] });
        return md.topics.map((t) => t.partitions.length);
      });
      expect(partitions[0]).toBe(partitions[1]);
      const decodeAll = async (n: number) => {
        const msgs = await readTopic({ brokers: s.kafka.brokers, topic, partitions: partitions[0]!, count: n, timeoutMs: 120_000 });
        return Promise.all(msgs.map(async (m) => ({ m, v: await serde.decode('group-member-changes', m.value!) })));
      };
      const snap = await decodeAll(1).catch(async (e) => {
        throw new Error(`${(e as Error).message}\n${await states([name])}`);
      });
      // The group's existing member first (snapshot read), as our own registered GroupMemberChange.
      expect(snap[0]!.v).toEqual({
        group_id: groupId,
        subscriber: ann.subscriber,
        uri: ann.uri,
        role: 'owner',
        display_name: 'Ann',
        attributes: '{"team": "blue"}',
        share: true,
        shared_parts: [],
        position: 1,
        updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
        __deleted: 'false',
        __op: 'r',
      });

      // A member joins, the first one leaves: an insert, then the deleted row itself (not a bare group-keyed tombstone).
      const changedAt = Date.now();
      await groups.putMember(groupId, bob);
      await groups.removeMember(groupId, ann.subscriber);
      const all = await decodeAll(3);
      const latencyMs = Date.now() - changedAt;
      for (const { m } of all) {
        expect(m.key!.toString()).toBe(groupId);
        expect(m.partition).toBe(partitionOf(groupId, partitions[0]!));
        // Written with our registered schema, not one the converter derived and registered itself.
        expect(m.value!.readUInt32BE(1)).toBe(serde.schemaIdOf('group-member-changes'));
      }
      expect(all.map((r) => r.v.__op)).toEqual(['r', 'c', 'd']);
      expect(all[1]!.v).toMatchObject({
        subscriber: bob.subscriber,
        uri: bob.uri,
        role: null,
        display_name: null,
        attributes: '{}',
        share: false,
        shared_parts: ['basic', 'note'],
        position: 2,
        __deleted: 'false',
      });
      expect(all[2]!.v).toEqual({ ...snap[0]!.v, __deleted: 'true', __op: 'd' });
      console.log(`group membership changes reached ${topic} within ${latencyMs} ms`);
    } finally {
      await groups.close();
    }
  }, 240_000);
});
