// Our ready Kafka Connect connectors, as data rendered from the settings
// (topic prefix, registry, database), so the same definitions serve the
// embedded worker, the compose file and an operator's own Connect cluster
// (`presence connect render` prints them as JSON for their tooling).
//
// Sinks (Debezium JDBC sink): current presence and group presence documents
// into PostgreSQL tables, upserted on the record key, deleted on tombstones.
// Sources (Debezium PostgreSQL, logical decoding with pgoutput): the
// subscriber directory and group membership into our topics, keyed by our
// keys, flattened to the row (ExtractNewRecordState), deletes as tombstones.
import type { Settings } from '../../config/settings.ts';
import { topicName } from '../../schemas/topology.ts';
import { jdbcOf } from '../../infra/local/database.ts';
import { snakeCase, sqlTableOf } from './sqlColumns.ts';

export type ConnectorConfig = Record<string, string>;

export interface ConnectorSpec {
  name: string;
  kind: 'sink' | 'source';
  description: string;
  /** For sources: the table captured (schema.table). */
  captures?: string;
  config: ConnectorConfig;
}

export interface ConnectorTargets {
  /** PostgreSQL schema of the sink tables (default `presence`). */
  sinkSchema: string;
  /** Database the sinks write to (default: the project's database). */
  sinkDatabaseUrl: string;
  /** Schema of the subscriber directory table `subscribers` (connectors/taps/directory). */
  directorySchema: string;
  /** Schema of the group service's tables `groups` and `group_members` (connectors/group-service). */
  groupSchema: string;
  /** Database the sources read (needs wal_level=logical). */
  sourceDatabaseUrl: string;
}

export function defaultTargets(s: Settings): ConnectorTargets {
  return { sinkSchema: 'presence', sinkDatabaseUrl: s.database.url, directorySchema: 'presence', groupSchema: 'presence', sourceDatabaseUrl: s.database.url };
}

/** Sink tables: table name and key field of each landed topic. */
export const SINK_TABLES = [
  { topic: 'current-presence', schema: 'Presence', table: 'current_presence', keyField: 'subscriber' },
  { topic: 'group-presence', schema: 'GroupPresence', table: 'group_presence', keyField: 'groupId' },
] as const;

/** Connector names, slots and publications carry the topic prefix so deployments on one cluster do not collide. */
function slug(prefix: string): string {
  return prefix.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '') || 'presence';
}

function databaseOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'presence';
}

/**
 * Value converter for our Confluent-framed Avro. Apicurio's registry: its own
 * converter (Confluent's is not on Maven Central) reading the 4-byte ids that
 * Apicurio's ccompat API hands out, which are content ids. A Confluent
 * registry: Confluent's AvroConverter, which Confluent's Connect images ship.
 */
export function valueConverter(s: Settings, autoRegister: boolean): ConnectorConfig {
  const apicurio = /^(.*)\/apis\/ccompat\/v\d+$/.exec(s.registry.url);
  if (apicurio) {
    return {
      'value.converter': 'io.apicurio.registry.utils.converter.AvroConverter',
      'value.converter.apicurio.registry.url': `${apicurio[1]}/apis/registry/v2`,
      'value.converter.apicurio.registry.as-confluent': 'true',
      'value.converter.apicurio.registry.use-id': 'contentId',
      'value.converter.apicurio.registry.headers.enabled': 'false',
      'value.converter.apicurio.registry.auto-register': String(autoRegister),
      'value.converter.apicurio.registry.find-latest': String(!autoRegister),
    };
  }
  return {
    'value.converter': 'io.confluent.connect.avro.AvroConverter',
    'value.converter.schema.registry.url': s.registry.url,
    'value.converter.auto.register.schemas': String(autoRegister),
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
      ...valueConverter(s, false),
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
    config: {
      'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
      'tasks.max': '1',
      'plugin.name': 'pgoutput',
      'database.hostname': u.hostname,
      'database.port': u.port || '5432',
      'database.user': decodeURIComponent(u.username || 'postgres'),
      'database.password': decodeURIComponent(u.password),
      'database.dbname': databaseOf(t.sourceDatabaseUrl),
      'topic.prefix': id,
      'table.include.list': table,
      'slot.name': id,
      'publication.name': id,
      'publication.autocreate.mode': 'filtered',
      // Existing rows first, then every change.
      'snapshot.mode': 'initial',
      // Our key, not the surrogate primary key: the record lands on the subscriber's (group's) partition.
      'message.key.columns': `${table}:${spec.keyColumn}`,
      transforms: 'unwrap,name,key,route',
      'transforms.unwrap.type': 'io.debezium.transforms.ExtractNewRecordState',
      'transforms.unwrap.delete.tombstone.handling.mode': 'tombstone',
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
      ...valueConverter(s, true),
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
      description: `${t.directorySchema}.subscribers → ${topicName(s.topics.prefix, 'directory-changes')} (CDC, keyed by subscriber)`,
    }),
    source(s, t, {
      id: 'group_members',
      topic: 'group-member-changes',
      schema: t.groupSchema,
      table: 'group_members',
      keyColumn: 'group_id',
      recordName: 'presence.v1.GroupMemberChange',
      description: `${t.groupSchema}.group_members → ${topicName(s.topics.prefix, 'group-member-changes')} (CDC, keyed by group)`,
    }),
  ];
}
