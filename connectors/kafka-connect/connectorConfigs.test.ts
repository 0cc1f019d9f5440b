import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { TOPICS, partitionsOf } from '../../schemas/topology.ts';
import { connectorSpecs, defaultTargets, SINK_TABLES } from './connectorConfigs.ts';
import { avroFieldsOf, createTableSql, snakeCase, sqlTableOf } from './sqlColumns.ts';
import { registeredSchemaMismatch } from './connectApply.ts';

const s = loadSettings({ PRESENCE_TOPIC_PREFIX: 'acme.' } as NodeJS.ProcessEnv);

describe('our schemas as SQL tables', () => {
  it('maps every landed field to a column, timestamps to timestamptz, and names nothing else', () => {
    const presence = sqlTableOf('Presence');
    expect(presence.excluded).toEqual([]);
    expect(presence.columns.find((c) => c.field === 'updatedAt')).toEqual({
      field: 'updatedAt',
      column: 'updated_at',
      sqlType: 'timestamptz',
      nullable: false,
    });
    expect(presence.columns.find((c) => c.field === 'servingNode')).toMatchObject({ column: 'serving_node', sqlType: 'text', nullable: true });
    const group = sqlTableOf('GroupPresence');
    expect(group.excluded).toEqual(['members']);
    expect(group.columns.find((c) => c.field === 'memberCount')).toMatchObject({ column: 'member_count', sqlType: 'integer' });
  });

  it('keys the tables by the record key', () => {
    for (const t of SINK_TABLES) expect(createTableSql(`x.${t.table}`, t.schema, t.keyField)).toContain(`${snakeCase(t.keyField)} text primary key`);
    expect(() => createTableSql('x.t', 'Presence', 'nope')).toThrow(/no SQL-mappable field nope/);
  });
});

describe('connector configurations', () => {
  const specs = connectorSpecs(s);

  it('names connectors, topics, slots and publications after the topic prefix', () => {
    expect(specs.map((c) => c.name)).toEqual([
      'acme.current-presence-jdbc-sink',
      'acme.group-presence-jdbc-sink',
      'acme.directory-cdc-source',
      'acme.group-members-cdc-source',
    ]);
    expect(specs[0]!.config.topics).toBe('acme.current-presence');
    expect(specs[2]!.config['slot.name']).toBe('acme_directory');
    expect(specs[2]!.config['transforms.route.replacement']).toBe('acme.directory-changes');
  });

  it("lands in presence_connect by default, apart from the group-presence API's own presence.group_presence", () => {
    expect(specs.filter((c) => c.kind === 'sink').map((c) => c.config['collection.name.format'])).toEqual([
      'presence_connect.current_presence',
      'presence_connect.group_presence',
    ]);
    const other = connectorSpecs(s, defaultTargets(s, { sink: 'ops', group: 'groups_a' }));
    expect(other[1]!.config['collection.name.format']).toBe('ops.group_presence');
    expect(other[3]!.config['table.include.list']).toBe('groups_a.group_members');
    expect(() => defaultTargets(s, { sink: 'x; drop table y' })).toThrow(/sink schema name x; drop table y is not a plain identifier/);
  });

  it('upserts on the key and deletes on tombstones; keys stay plain strings', () => {
    for (const sink of specs.filter((c) => c.kind === 'sink')) {
      expect(sink.config).toMatchObject({
        'insert.mode': 'upsert',
        'delete.enabled': 'true',
        'primary.key.mode': 'record_key',
        'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      });
    }
    expect(specs[1]!.config['primary.key.fields']).toBe('group_id');
  });

  it('keys group membership by group, on a topic partitioned like groups, and keeps deleted members as records', () => {
    const group = specs.find((c) => c.name === 'acme.group-members-cdc-source')!;
    expect(group.config).toMatchObject({
      'message.key.columns': 'presence.group_members:group_id',
      'transforms.key.field': 'group_id',
      'transforms.route.replacement': 'acme.group-member-changes',
      'transforms.unwrap.delete.tombstone.handling.mode': 'rewrite',
      'replica.identity.autoset.values': 'presence.group_members:FULL',
    });
    // Group-level consumers find a group's member changes on the partition that holds the group.
    const spec = (name: string) => TOPICS.find((t) => t.name === name)!;
    expect(spec('group-member-changes').key).toBe('group');
    expect(partitionsOf(spec('group-member-changes'), 12)).toBe(partitionsOf(spec('groups'), 12));
    // Only our record's columns are captured, so a column added later cannot shift the fields.
    expect(group.config['column.include.list']!.split(',')).toEqual(
      ['group_id', 'subscriber', 'uri', 'role', 'display_name', 'attributes', 'share', 'shared_parts', 'position', 'updated_at'].map(
        (c) => `presence\\.group_members\\.${c}`,
      ),
    );
    const directory = specs.find((c) => c.name === 'acme.directory-cdc-source')!;
    expect(directory.config['transforms.unwrap.delete.tombstone.handling.mode']).toBe('tombstone');
  });

  it('writes and reads only our registered schemas, never registering one of its own', () => {
    for (const c of specs)
      expect(c.config).toMatchObject({ 'value.converter.apicurio.registry.auto-register': 'false', 'value.converter.apicurio.registry.find-latest': 'true' });
    const confluent = connectorSpecs(loadSettings({ PRESENCE_REGISTRY_URL: 'http://sr:8081' } as NodeJS.ProcessEnv));
    for (const c of confluent)
      expect(c.config).toMatchObject({ 'value.converter.auto.register.schemas': 'false', 'value.converter.use.latest.version': 'true' });
  });

  it("reads Avro through Apicurio by content id, or through a Confluent registry with Confluent's converter", () => {
    expect(specs[0]!.config).toMatchObject({
      'value.converter': 'io.apicurio.registry.utils.converter.AvroConverter',
      'value.converter.apicurio.registry.url': 'http://127.0.0.1:8081/apis/registry/v2',
      'value.converter.apicurio.registry.use-id': 'contentId',
    });
    const confluent = connectorSpecs(loadSettings({ PRESENCE_REGISTRY_URL: 'http://sr:8081' } as NodeJS.ProcessEnv));
    expect(confluent[0]!.config).toMatchObject({
      'value.converter': 'io.confluent.connect.avro.AvroConverter',
      'value.converter.schema.registry.url': 'http://sr:8081',
    });
    expect(JSON.stringify(specs.map((c) => c.config))).not.toMatch(/auth/);
  });

  it("gives both converters the registry's basic auth when it is set", () => {
    const env = { PRESENCE_REGISTRY_USERNAME: 'presence', PRESENCE_REGISTRY_PASSWORD: 'reg-s3cret' };
    for (const c of connectorSpecs(loadSettings({ ...env, PRESENCE_REGISTRY_URL: 'https://registry.example.net/apis/ccompat/v7' } as NodeJS.ProcessEnv)))
      expect(c.config).toMatchObject({ 'value.converter.apicurio.auth.username': 'presence', 'value.converter.apicurio.auth.password': 'reg-s3cret' });
    for (const c of connectorSpecs(loadSettings({ ...env, PRESENCE_REGISTRY_URL: 'https://sr.example.net' } as NodeJS.ProcessEnv)))
      expect(c.config).toMatchObject({
        'value.converter.basic.auth.credentials.source': 'USER_INFO',
        'value.converter.basic.auth.user.info': 'presence:reg-s3cret',
      });
  });
});

describe('presence connect against a registry that requires basic auth', () => {
  it('reads the registered schema with the registry credentials (401 without them)', async () => {
    const s0 = loadSettings({ PRESENCE_REGISTRY_URL: 'http://127.0.0.1:1' } as NodeJS.ProcessEnv);
    const spec = connectorSpecs(s0).find((c) => c.writes)!;
    const expected = `Basic ${Buffer.from('presence:reg-s3cret').toString('base64')}`;
    const server = http.createServer((req, res) => {
      if (req.headers.authorization !== expected) return void res.writeHead(401).end('{"error_code":401}');
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ schema: JSON.stringify({ fields: avroFieldsOf(spec.writes!.valueSchema) }) }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const withAuth = loadSettings({
        PRESENCE_REGISTRY_URL: url,
        PRESENCE_REGISTRY_USERNAME: 'presence',
        PRESENCE_REGISTRY_PASSWORD: 'reg-s3cret',
      } as NodeJS.ProcessEnv);
      expect(await registeredSchemaMismatch(withAuth, spec)).toBeUndefined();
      // Settings without credentials ask without them, even when this process's own environment has some.
      const saved = { ...process.env };
      Object.assign(process.env, { PRESENCE_REGISTRY_USERNAME: 'presence', PRESENCE_REGISTRY_PASSWORD: 'reg-s3cret' });
      try {
        expect(await registeredSchemaMismatch(loadSettings({ PRESENCE_REGISTRY_URL: url } as NodeJS.ProcessEnv), spec)).toMatch(/answered 401/);
      } finally {
        delete process.env.PRESENCE_REGISTRY_USERNAME;
        delete process.env.PRESENCE_REGISTRY_PASSWORD;
        Object.assign(process.env, saved);
      }
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe("the database URL's TLS settings", () => {
  it('reach the JDBC sinks and the CDC sources (sslmode=require in PRESENCE_DATABASE_URL)', () => {
    const tls = loadSettings({
      PRESENCE_DATABASE_URL: 'postgres://app:pw@db.example:5433/presence?sslmode=require&sslrootcert=/etc/ca.pem',
    } as NodeJS.ProcessEnv);
    const specs = connectorSpecs(tls);
    for (const c of specs.filter((x) => x.kind === 'sink'))
      expect(c.config['connection.url']).toBe('jdbc:postgresql://db.example:5433/presence?sslmode=require&sslrootcert=%2Fetc%2Fca.pem');
    for (const c of specs.filter((x) => x.kind === 'source'))
      expect(c.config).toMatchObject({ 'database.sslmode': 'require', 'database.sslrootcert': '/etc/ca.pem' });
  });
});
