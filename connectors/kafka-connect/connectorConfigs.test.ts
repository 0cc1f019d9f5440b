import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { connectorSpecs, SINK_TABLES } from './connectorConfigs.ts';
import { createTableSql, snakeCase, sqlTableOf } from './sqlColumns.ts';

const s = loadSettings({ PRESENCE_TOPIC_PREFIX: 'acme.' } as NodeJS.ProcessEnv);

describe('our schemas as SQL tables', () => {
  it('maps every landed field to a column, timestamps to timestamptz, and names nothing else', () => {
    const presence = sqlTableOf('Presence');
    expect(presence.excluded).toEqual([]);
    expect(presence.columns.find((c) => c.field === 'updatedAt')).toEqual({ field: 'updatedAt', column: 'updated_at', sqlType: 'timestamptz', nullable: false });
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

  it('upserts on the key and deletes on tombstones; keys stay plain strings', () => {
    for (const sink of specs.filter((c) => c.kind === 'sink')) {
      expect(sink.config).toMatchObject({ 'insert.mode': 'upsert', 'delete.enabled': 'true', 'primary.key.mode': 'record_key', 'key.converter': 'org.apache.kafka.connect.storage.StringConverter' });
    }
    expect(specs[1]!.config['primary.key.fields']).toBe('group_id');
  });

  it('reads Avro through Apicurio by content id, or through a Confluent registry with Confluent\'s converter', () => {
    expect(specs[0]!.config).toMatchObject({
      'value.converter': 'io.apicurio.registry.utils.converter.AvroConverter',
      'value.converter.apicurio.registry.url': 'http://127.0.0.1:8081/apis/registry/v2',
      'value.converter.apicurio.registry.use-id': 'contentId',
    });
    const confluent = connectorSpecs(loadSettings({ PRESENCE_REGISTRY_URL: 'http://sr:8081' } as NodeJS.ProcessEnv));
    expect(confluent[0]!.config).toMatchObject({ 'value.converter': 'io.confluent.connect.avro.AvroConverter', 'value.converter.schema.registry.url': 'http://sr:8081' });
  });
});
