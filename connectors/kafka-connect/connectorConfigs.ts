// Our ready Kafka Connect connectors, as data rendered from the settings
// (topic prefix, registry, database), so the same definitions serve the
// embedded worker, the compose file and an operator's own Connect cluster
// (`presence connect render` prints them as JSON for their tooling).
//
// Sinks (Debezium JDBC sink): current presence and group presence documents
// into PostgreSQL tables, upserted on the record key, deleted on tombstones.
// Sources (Debezium PostgreSQL, logical decoding with pgoutput): the
// subscriber directory and group membership into our topics, keyed by our
// keys, flattened to the row (ExtractNewRecordState), written with our
// registered schemas; a deleted directory row is a tombstone, a deleted
// member the deleted row itself (its group key alone would not say who left).
import type { Settings } from '../../config/settings.ts';
import { topicName } from '../../schemas/topology.ts';
import { jdbcOf } from '../../infra/local/database.ts';
import { avroFieldsOf, snakeCase, sqlTableOf } from './sqlColumns.ts';

type ConnectorConfig = Record<string, string>;

export interface ConnectorSpec {
  name: string;
  kind: 'sink' | 'source';
  description: string;
  /** For sources: the table captured (schema.table). */
  captures?: string;
  /** For sources: the topic written (unprefixed) and its value schema (schemas/avro), written positionally. */
  writes?: { topic: string; valueSchema: string };
  config: ConnectorConfig;
}

export interface ConnectorTargets {
  /**
   * PostgreSQL schema of the sink tables (default `presence_connect`, not
   * `presence`: `presence run group-presence-api` keeps its own, richer
   * `presence.group_presence`, and the two must not share a table).
   */
  sinkSchema: string;
  /** Database the sinks write to (default: the project's database). */
  sinkDatabaseUrl: string;
  /** Schema of the subscriber directory table `subscribers` (subscriber/directory). */
  directorySchema: string;
  /** Schema of the group service's tables `groups` and `group_members` (services/group-service). */
  groupSchema: string;
  /** Database the sources read (needs wal_level=logical). */
  sourceDatabaseUrl: string;
}

export const DEFAULT_SINK_SCHEMA = 'presence_connect';

/** The project's database; the directory's and the group service's default schema (`presence`). */
export function defaultTargets(s: Settings, schemas: { sink?: string; directory?: string; group?: string } = {}): ConnectorTargets {
  const t = {
    sinkSchema: schemas.sink ?? DEFAULT_SINK_SCHEMA,
    sinkDatabaseUrl: s.database.url,
    directorySchema: schemas.directory ?? 'presence',
    groupSchema: schemas.group ?? 'presence',
    sourceDatabaseUrl: s.database.url,
  };
  for (const [what, name] of [
    ['sink', t.sinkSchema],
    ['directory', t.directorySchema],
    ['group', t.groupSchema],
  ] as const) {
    // Interpolated into SQL and into Debezium's regex lists.
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`${what} schema name ${name} is not a plain identifier (lower case letters, digits, _)`);
  }
  return t;
}

/** Sink tables: table name and key field of each landed topic. */
export const SINK_TABLES = [
  { topic: 'current-presence', schema: 'Presence', table: 'current_presence', keyField: 'subscriber' },
  { topic: 'group-presence', schema: 'GroupPresence', table: 'group_presence', keyField: 'groupId' },
] as const;

/** Connector names, slots and publications carry the topic prefix so deployments on one cluster do not collide. */
function slug(prefix: string): string {
  return (
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '') || 'presence'
  );
}

function databaseOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'presence';
}

/**
 * Value converter for our Confluent-framed Avro, always with our registered
 * schema (the subject's latest version, never one derived from the Connect
 * record): a CDC record's fields must match our record, in order, or the task
 * fails instead of publishing a schema of its own. Apicurio's registry: its
 * own converter (Confluent's is not on Maven Central) with the 4-byte ids
 * that Apicurio's ccompat API hands out, which are content ids. A Confluent
 * registry: Confluent's AvroConverter, which Confluent's Connect images ship.
 */
function valueConverter(s: Settings): ConnectorConfig {
  const apicurio = /^(.*)\/apis\/ccompat\/v\d+$/.exec(s.registry.url);
  // The registry's basic auth (PRESENCE_REGISTRY_USERNAME/PASSWORD), in each converter's own keys; the
  // Strimzi resources move these to a Secret like the database passwords (strimziConnectors.ts).
  const { username, password } = s.registry;
  const auth = username !== undefined && password !== undefined;
  if (apicurio) {
    return {
      ...(auth ? { 'value.converter.apicurio.auth.username': username, 'value.converter.apicurio.auth.password': password } : {}),
      'value.converter': 'io.apicurio.registry.utils.converter.AvroConverter',
      'value.converter.apicurio.registry.url': `${apicurio[1]}/apis/registry/v2`,
      'value.converter.apicurio.registry.as-confluent': 'true',
      'value.converter.apicurio.registry.use-id': 'contentId',
      'value.converter.apicurio.registry.headers.enabled': 'false',
      'value.converter.apicurio.registry.auto-register': 'false',
      'value.converter.apicurio.registry.find-latest': 'true',
    };
  }
  return {
    ...(auth ? { 'value.converter.basic.auth.credentials.source': 'USER_INFO', 'value.converter.basic.auth.user.info': `${username}:${password}` } : {}),
    'value.converter': 'io.confluent.connect.avro.AvroConverter',
    'value.converter.schema.registry.url': s.registry.url,
    'value.converter.auto.register.schemas': 'false',
    'value.converter.use.latest.version': 'true',
  };
}

const STRING_KEYS = { 'key.converter': 'org.apache.kafka.connect.storage.StringConverter' };

function sink(s: Settings, t: ConnectorTargets, spec: (typeof SINK_TABLES)[number]): ConnectorSpec {
  const jdbc = jdbcOf(t.sinkDatabaseUrl, databaseOf(t.sinkDatabaseUrl));
  const { excluded } = sqlTableOf(spec.schema);
  // The sink reads a primary key from a struct key only: wrap our plain string key as {<keyField>: key}.
  const keyStruct: ConnectorConfig = {
    'transforms.keyStruct.type': 'org.apache.kafka.connect.transforms.HoistField$Key',
    'transforms.keyStruct.field': snakeCase(spec.keyField),
    // Columns are snake_case (networkState → network_state), as the tables made from our schemas.
    'transforms.snakeCase.type': 'io.debezium.connector.jdbc.transforms.FieldNameTransformation',
    'transforms.snakeCase.column.naming.style': 'snake_case',
    'transforms.snakeCase.predicate': 'isTombstone',
    'transforms.snakeCase.negate': 'true',
    predicates: 'isTombstone',
    'predicates.isTombstone.type': 'org.apache.kafka.connect.transforms.predicates.RecordIsTombstone',
  };
  const drop: ConnectorConfig = excluded.length
    ? {
        // Fields with no SQL column (e.g. GroupPresence.members); tombstones have no value to edit.
        'transforms.dropNested.type': 'org.apache.kafka.connect.transforms.ReplaceField$Value',
        'transforms.dropNested.exclude': excluded.join(','),
        'transforms.dropNested.predicate': 'isTombstone',
        'transforms.dropNested.negate': 'true',
      }
    : {};
  return {
    name: `${s.topics.prefix}${spec.topic}-jdbc-sink`,
    kind: 'sink',
    description: `${topicName(s.topics.prefix, spec.topic)} → ${t.sinkSchema}.${spec.table} (upsert on the key, delete on tombstone)`,
    config: {
      'connector.class': 'io.debezium.connector.jdbc.JdbcSinkConnector',
      'tasks.max': '1',
      topics: topicName(s.topics.prefix, spec.topic),
      'connection.url': jdbc.url,
      'connection.username': jdbc.user,
      'connection.password': jdbc.password,
      'insert.mode': 'upsert',
      'delete.enabled': 'true',
      'primary.key.mode': 'record_key',
      'primary.key.fields': snakeCase(spec.keyField),
      'collection.name.format': `${t.sinkSchema}.${spec.table}`,
      // Tables are created from our schemas first (timestamptz, NOT NULL); new optional fields are added.
      'schema.evolution': 'basic',
      'database.time_zone': 'UTC',
      ...STRING_KEYS,
      ...valueConverter(s),
      transforms: excluded.length ? 'keyStruct,dropNested,snakeCase' : 'keyStruct,snakeCase',
      ...keyStruct,
      ...drop,
    },
  };
}

interface SourceSpec {
  id: string;
  topic: string;
  schema: string;
  table: string;
  keyColumn: string;
  recordName: string;
  /**
   * What a deleted row becomes. `tombstone`: the key alone is the whole fact
   * (directory-changes is compacted by subscriber). `record`: the deleted row
   * itself, `__op` `d` and `__deleted` true — a group-keyed tombstone would not
   * say which member left.
   */
  deletes: 'tombstone' | 'record';
  description: string;
}

function source(s: Settings, t: ConnectorTargets, spec: SourceSpec): ConnectorSpec {
  const u = new URL(t.sourceDatabaseUrl);
  const id = `${slug(s.topics.prefix)}_${spec.id}`;
  const table = `${spec.schema}.${spec.table}`;
  return {
    name: `${s.topics.prefix}${spec.id.replace(/_/g, '-')}-cdc-source`,
    kind: 'source',
    description: spec.description,
    captures: table,
    writes: { topic: spec.topic, valueSchema: spec.recordName.replace(/^.*\./, '') },
    config: {
      'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
      'tasks.max': '1',
      'plugin.name': 'pgoutput',
      'database.hostname': u.hostname,
      'database.port': u.port || '5432',
      'database.user': decodeURIComponent(u.username || 'postgres'),
      'database.password': decodeURIComponent(u.password),
      'database.dbname': databaseOf(t.sourceDatabaseUrl),
      // The URL's TLS settings, as libpq names them (Debezium takes the same values).
      ...(u.searchParams.get('sslmode') ? { 'database.sslmode': u.searchParams.get('sslmode')! } : {}),
      ...(u.searchParams.get('sslrootcert') ? { 'database.sslrootcert': u.searchParams.get('sslrootcert')! } : {}),
      'topic.prefix': id,
      'table.include.list': table,
      // Exactly our record's columns: a column added to the table later does not shift the record's fields.
      'column.include.list': avroFieldsOf(spec.recordName.replace(/^.*\./, ''))
        .filter((f) => !f.name.startsWith('__'))
        .map((f) => `${spec.schema}\\.${spec.table}\\.${f.name}`)
        .join(','),
      'slot.name': id,
      'publication.name': id,
      'publication.autocreate.mode': 'filtered',
      // Existing rows first, then every change.
      'snapshot.mode': 'initial',
      // Our key, not the surrogate primary key: the record lands on the subscriber's (group's) partition.
      'message.key.columns': `${table}:${spec.keyColumn}`,
      transforms: 'unwrap,name,key,route',
      'transforms.unwrap.type': 'io.debezium.transforms.ExtractNewRecordState',
      ...(spec.deletes === 'tombstone'
        ? { 'transforms.unwrap.delete.tombstone.handling.mode': 'tombstone' }
        : {
            'transforms.unwrap.delete.tombstone.handling.mode': 'rewrite',
            // The deleted row's every column, not just its primary key (Debezium sets REPLICA IDENTITY FULL at start).
            'replica.identity.autoset.values': `${table}:FULL`,
          }),
      'transforms.unwrap.add.fields': 'op',
      'transforms.name.type': 'org.apache.kafka.connect.transforms.SetSchemaMetadata$Value',
      'transforms.name.schema.name': spec.recordName,
      'transforms.name.predicate': 'isTombstone',
      'transforms.name.negate': 'true',
      'transforms.key.type': 'org.apache.kafka.connect.transforms.ExtractField$Key',
      'transforms.key.field': spec.keyColumn,
      'transforms.route.type': 'org.apache.kafka.connect.transforms.RegexRouter',
      'transforms.route.regex': '.*',
      'transforms.route.replacement': topicName(s.topics.prefix, spec.topic),
      predicates: 'isTombstone',
      'predicates.isTombstone.type': 'org.apache.kafka.connect.transforms.predicates.RecordIsTombstone',
      ...STRING_KEYS,
      ...valueConverter(s),
    },
  };
}

export function connectorSpecs(s: Settings, t: ConnectorTargets = defaultTargets(s)): ConnectorSpec[] {
  return [
    ...SINK_TABLES.map((spec) => sink(s, t, spec)),
    source(s, t, {
      id: 'directory',
      topic: 'directory-changes',
      schema: t.directorySchema,
      table: 'subscribers',
      keyColumn: 'key',
      recordName: 'presence.v1.DirectoryChange',
      deletes: 'tombstone',
      description: `${t.directorySchema}.subscribers → ${topicName(s.topics.prefix, 'directory-changes')} (CDC, keyed by subscriber)`,
    }),
    source(s, t, {
      id: 'group_members',
      topic: 'group-member-changes',
      schema: t.groupSchema,
      table: 'group_members',
      keyColumn: 'group_id',
      recordName: 'presence.v1.GroupMemberChange',
      deletes: 'record',
      description: `${t.groupSchema}.group_members → ${topicName(s.topics.prefix, 'group-member-changes')} (CDC, keyed by group)`,
    }),
  ];
}
