// Applies our connectors to a Connect cluster through its REST API.
// PUT /connectors/{name}/config creates or updates, so applying twice is a
// no-op. Sink tables are created from our Avro schemas first; sources are
// refused with a clear reason when the database cannot do logical decoding.
import pg from 'pg';
import type { Settings } from '../../config/settings.ts';
import { type ConnectorSpec, type ConnectorTargets, SINK_TABLES, connectorSpecs, defaultTargets } from './connectorConfigs.ts';
import { avroFieldsOf, createTableSql } from './sqlColumns.ts';
import { valueSubject } from '../../schemas/topology.ts';
import { registryHeaders } from '../../schemas/registryAuth.ts';

class ConnectError extends Error {}

async function rest(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
  } catch (err) {
    throw new ConnectError(
      `Kafka Connect at ${url} does not answer (${(err as Error).message}); start it with \`presence stack up --with-connect\` or set PRESENCE_CONNECT_URL`,
    );
  }
  const text = await res.text();
  let json: unknown = text;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    /* plain-text error body */
  }
  return { status: res.status, json };
}

function messageOf(json: unknown): string {
  return typeof json === 'object' && json && 'message' in json ? String((json as { message: unknown }).message) : JSON.stringify(json);
}

/** Creates the sink tables (schema, key, timestamptz) if missing. */
async function ensureSinkTables(targets: ConnectorTargets): Promise<void> {
  const c = new pg.Client(targets.sinkDatabaseUrl);
  await c.connect();
  try {
    await c.query(`create schema if not exists ${targets.sinkSchema}`);
    for (const t of SINK_TABLES) await c.query(createTableSql(`${targets.sinkSchema}.${t.table}`, t.schema, t.keyField));
  } finally {
    await c.end();
  }
}

/** Captured tables (schema.table) that do not exist in the source database. */
async function missingTables(databaseUrl: string, tables: string[]): Promise<Set<string>> {
  const c = new pg.Client(databaseUrl);
  await c.connect();
  try {
    const missing = new Set<string>();
    for (const t of tables) if ((await c.query<{ r: string | null }>('select to_regclass($1) as r', [t])).rows[0]?.r == null) missing.add(t);
    return missing;
  } finally {
    await c.end();
  }
}

/** Why the source database cannot feed CDC connectors, or undefined when it can. */
export async function cdcUnavailable(databaseUrl: string): Promise<string | undefined> {
  const c = new pg.Client(databaseUrl);
  await c.connect();
  try {
    const { rows } = await c.query<{ wal_level: string }>('show wal_level');
    const level = rows[0]?.wal_level;
    return level === 'logical'
      ? undefined
      : `PostgreSQL at ${new URL(databaseUrl).host} has wal_level=${level}; CDC needs wal_level=logical (ALTER SYSTEM SET wal_level = logical, then restart the server)`;
  } finally {
    await c.end();
  }
}

/**
 * Why a source cannot write its topic with our schema, or undefined. The
 * converter writes with the subject's latest registered version, field by
 * position: a registry still holding an older version of our record (before
 * `presence topics apply`) would get the row's fields under the wrong names.
 */
export async function registeredSchemaMismatch(s: Settings, spec: ConnectorSpec): Promise<string | undefined> {
  if (!spec.writes) return undefined;
  const subject = valueSubject(s.topics.prefix, spec.writes.topic);
  let res: Response;
  try {
    const { username, password } = s.registry;
    res = await fetch(`${s.registry.url}/subjects/${encodeURIComponent(subject)}/versions/latest`, {
      // These settings' credentials or none: registryHeaders() without them would read the process's own.
      headers: username !== undefined && password !== undefined ? registryHeaders({ username, password }) : {},
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    return `the schema registry at ${s.registry.url} does not answer (${(err as Error).message})`;
  }
  if (res.status === 404) return `subject ${subject} is not registered; run \`presence topics apply\` first`;
  if (!res.ok) return `the schema registry answered ${res.status} for subject ${subject}`;
  const registered = (JSON.parse(((await res.json()) as { schema: string }).schema) as { fields?: { name: string }[] }).fields?.map((f) => f.name) ?? [];
  const ours = avroFieldsOf(spec.writes.valueSchema).map((f) => f.name);
  if (registered.join(',') !== ours.join(',')) {
    return `subject ${subject} holds fields (${registered.join(', ')}), not ${spec.writes.valueSchema}'s (${ours.join(', ')}); run \`presence topics apply\` first`;
  }
  return undefined;
}

interface ApplyOutcome {
  name: string;
  result: 'created' | 'updated' | 'refused';
  reason?: string;
}

export async function applyConnectors(
  s: Settings,
  connectUrl: string,
  opts: { targets?: ConnectorTargets; only?: 'sink' | 'source'; names?: string[] } = {},
): Promise<ApplyOutcome[]> {
  const targets = opts.targets ?? defaultTargets(s);
  const specs = connectorSpecs(s, targets).filter((c) => (!opts.only || c.kind === opts.only) && (!opts.names || opts.names.includes(c.name)));
  if (specs.some((c) => c.kind === 'sink')) await ensureSinkTables(targets);
  const sources = specs.filter((c) => c.kind === 'source');
  const noCdc = sources.length ? await cdcUnavailable(targets.sourceDatabaseUrl) : undefined;
  const missing =
    sources.length && !noCdc
      ? await missingTables(
          targets.sourceDatabaseUrl,
          sources.map((c) => c.captures!),
        )
      : new Set<string>();
  const out: ApplyOutcome[] = [];
  for (const spec of specs) {
    if (spec.kind === 'source' && noCdc) {
      out.push({ name: spec.name, result: 'refused', reason: noCdc });
      continue;
    }
    if (spec.captures && missing.has(spec.captures)) {
      // Debezium would fail creating its publication; the table's owner creates it (directory: `presence directory`, groups: the group service).
      out.push({
        name: spec.name,
        result: 'refused',
        reason: `table ${spec.captures} does not exist yet; start the service that owns it once, then apply again`,
      });
      continue;
    }
    const mismatch = await registeredSchemaMismatch(s, spec);
    if (mismatch) {
      out.push({ name: spec.name, result: 'refused', reason: mismatch });
      continue;
    }
    out.push(await putConnector(connectUrl, spec));
  }
  return out;
}

async function putConnector(connectUrl: string, spec: ConnectorSpec): Promise<ApplyOutcome> {
  // Validate first: the worker names the offending property instead of failing the task later.
  const cls = spec.config['connector.class']!;
  const v = await rest(connectUrl, 'PUT', `/connector-plugins/${encodeURIComponent(cls)}/config/validate`, { ...spec.config, name: spec.name });
  if (v.status === 200) {
    const errors = ((v.json as { configs?: { value: { name: string; errors: string[] } }[] }).configs ?? []).flatMap((c) =>
      c.value.errors.map((e) => `${c.value.name}: ${e}`),
    );
    if (errors.length) throw new ConnectError(`${spec.name}: invalid configuration\n  ${errors.join('\n  ')}`);
  } else if (v.status === 404 || v.status === 400) {
    throw new ConnectError(
      `${spec.name}: the Connect cluster has no plugin ${cls} (${messageOf(v.json)}); add it to plugin.path (see connectors/kafka-connect/README.md)`,
    );
  }
  const r = await rest(connectUrl, 'PUT', `/connectors/${encodeURIComponent(spec.name)}/config`, spec.config);
  if (r.status === 201) return { name: spec.name, result: 'created' };
  if (r.status === 200) return { name: spec.name, result: 'updated' };
  throw new ConnectError(`${spec.name}: Connect answered ${r.status}: ${messageOf(r.json)}`);
}

interface ConnectorState {
  name: string;
  state: string;
  tasks: { id: number; state: string; trace?: string }[];
}

export async function connectorStatus(connectUrl: string, name: string): Promise<ConnectorState | undefined> {
  const r = await rest(connectUrl, 'GET', `/connectors/${encodeURIComponent(name)}/status`);
  if (r.status === 404) return undefined;
  if (r.status !== 200) throw new ConnectError(`${name}: Connect answered ${r.status}: ${messageOf(r.json)}`);
  const j = r.json as { connector: { state: string }; tasks: { id: number; state: string; trace?: string }[] };
  return { name, state: j.connector.state, tasks: j.tasks };
}

export async function deleteConnector(connectUrl: string, name: string): Promise<boolean> {
  const r = await rest(connectUrl, 'DELETE', `/connectors/${encodeURIComponent(name)}`);
  if (r.status === 404) return false;
  if (r.status >= 300) throw new ConnectError(`${name}: Connect answered ${r.status}: ${messageOf(r.json)}`);
  return true;
}
