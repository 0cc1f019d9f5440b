// Our Avro records as SQL tables: which column each field lands in, with
// which type. The JDBC sink would create tables itself, but it maps Avro's
// timestamp-millis to `timestamp` (no time zone); creating them from the
// schema first gives timestamptz, NOT NULL where the field is required and
// the record key as primary key. Fields with no SQL column type (arrays,
// maps, records) are listed so the connector drops them instead of failing.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../config/settings.ts';

type AvroType = string | { type: string; logicalType?: string; items?: unknown; values?: unknown } | AvroType[];

interface AvroField {
  name: string;
  type: AvroType;
}

/** Avro type → PostgreSQL column type (code table). */
const SQL_TYPES: Record<string, string> = {
  string: 'text',
  long: 'bigint',
  int: 'integer',
  boolean: 'boolean',
  double: 'double precision',
  float: 'real',
  bytes: 'bytea',
  'long/timestamp-millis': 'timestamptz',
  'long/timestamp-micros': 'timestamptz',
  'int/date': 'date',
};

interface SqlColumn {
  field: string;
  column: string;
  sqlType: string;
  nullable: boolean;
}

interface SqlTable {
  columns: SqlColumn[];
  /** Fields with no column (array, map, nested record): excluded by the connector. */
  excluded: string[];
}

/** camelCase → snake_case, as the Debezium JDBC sink's `column.naming.style=snake_case` does. */
export function snakeCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

function sqlTypeOf(t: AvroType): { sqlType?: string; nullable: boolean } {
  if (Array.isArray(t)) {
    const nonNull = t.filter((x) => x !== 'null');
    if (nonNull.length !== 1) return { nullable: true };
    return { sqlType: sqlTypeOf(nonNull[0]!).sqlType, nullable: t.includes('null') };
  }
  if (typeof t === 'string') return { sqlType: SQL_TYPES[t], nullable: false };
  const key = t.logicalType ? `${t.type}/${t.logicalType}` : t.type;
  return { sqlType: SQL_TYPES[key] ?? (t.logicalType ? SQL_TYPES[t.type] : undefined), nullable: false };
}

/** The fields of one of our records (schemas/avro/<name>.avsc), in order. */
export function avroFieldsOf(schemaName: string): AvroField[] {
  const file = path.join(projectRoot, 'schemas/avro', `${schemaName}.avsc`);
  return (JSON.parse(readFileSync(file, 'utf8')) as { fields: AvroField[] }).fields;
}

export function sqlTableOf(schemaName: string): SqlTable {
  const columns: SqlColumn[] = [];
  const excluded: string[] = [];
  for (const f of avroFieldsOf(schemaName)) {
    const { sqlType, nullable } = sqlTypeOf(f.type);
    if (sqlType) columns.push({ field: f.name, column: snakeCase(f.name), sqlType, nullable });
    else excluded.push(f.name);
  }
  return { columns, excluded };
}

/** `create table if not exists` for a record, keyed by `keyField`. */
export function createTableSql(qualifiedTable: string, schemaName: string, keyField: string): string {
  const { columns } = sqlTableOf(schemaName);
  if (!columns.some((c) => c.field === keyField)) throw new Error(`${schemaName} has no SQL-mappable field ${keyField} for the primary key`);
  const lines = columns.map((c) => `  ${c.column} ${c.sqlType}${c.field === keyField ? ' primary key' : c.nullable ? '' : ' not null'}`);
  return `create table if not exists ${qualifiedTable} (\n${lines.join(',\n')}\n)`;
}
