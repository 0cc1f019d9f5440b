// Groups in PostgreSQL. Every change is one transaction that locks the group's
// row (so changes to one group are serialised and its versions increase in
// commit order), applies the change, gives the group a new version and writes
// the full Group record of that version to the outbox — so a change is in the
// outbox exactly when it is in the tables, whatever happens to the process.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { Group, GroupMember } from '../../schemas/generated/records.ts';
import { inTransaction } from '../../kafka/pgTransaction.ts';
import type { AdminPolicy, GroupPatch, MemberSettings } from './groupValidation.ts';
import type { ResolvedMember } from './memberResolver.ts';

const SCHEMA_SQL = readFileSync(new URL('./schema.sql', import.meta.url), 'utf8');

export class GroupNotFoundError extends Error {
  constructor(what: string) {
    super(`no ${what}`);
    this.name = 'GroupNotFoundError';
  }
}

export class GroupConflictError extends Error {
  constructor(
    readonly field: 'id' | 'uri',
    value: string,
  ) {
    super(`a group with ${field} ${value} already exists`);
    this.name = 'GroupConflictError';
  }
}

/**
 * The largest Group record (as JSON, which Avro never exceeds) a change may produce: the
 * groups topic and the producer take records up to Kafka's default of 1 MB, and a record
 * Kafka refuses would stay at the head of the outbox, blocking every later change.
 */
const GROUP_RECORD_MAX_BYTES = 900_000;

export class GroupTooLargeError extends Error {
  constructor(readonly bytes: number) {
    super(`the group's record would be ${bytes} bytes, over the limit of ${GROUP_RECORD_MAX_BYTES}: use fewer or shorter attributes, or split the group`);
    this.name = 'GroupTooLargeError';
  }
}

export class VersionMismatchError extends Error {
  constructor(
    readonly expected: number,
    readonly current: number,
  ) {
    super(`the group is at version ${current}, not ${expected}; read it again and retry`);
    this.name = 'VersionMismatchError';
  }
}

interface StoredGroup {
  id: string;
  uri: string;
  name: string;
  attributes: Record<string, string>;
  adminPolicy: AdminPolicy;
  members: Array<ResolvedMember & MemberSettings>;
}

type Client = pg.PoolClient;

interface GroupRow {
  id: string;
  uri: string;
  name: string;
  attributes: Record<string, string>;
  admin_policy: string;
  version: string;
  updated_at: Date;
}

interface MemberRow {
  subscriber: string;
  uri: string;
  role: string | null;
  display_name: string | null;
  attributes: Record<string, string>;
  share: boolean;
  shared_parts: string[];
}

function toMember(r: MemberRow): GroupMember {
  return {
    subscriber: r.subscriber,
    uri: r.uri,
    role: r.role,
    displayName: r.display_name,
    attributes: r.attributes,
    share: r.share,
    sharedParts: r.shared_parts,
  };
}

/** `version` must be the expected one unless none (or '*') was given. */
function checkVersion(expected: number | '*' | undefined, current: number): void {
  if (expected !== undefined && expected !== '*' && expected !== current) throw new VersionMismatchError(expected, current);
}

export class GroupStore {
  readonly pool: pg.Pool;

  constructor(
    databaseUrl: string,
    readonly schema = 'presence',
  ) {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`group schema name ${schema} is not a plain identifier`);
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 6, options: `-c search_path=${schema}` });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    this.pool.on('error', () => {});
  }

  async migrate(): Promise<void> {
    await this.pool.query(`create schema if not exists ${this.schema}`);
    await this.pool.query(SCHEMA_SQL);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private tx<T>(work: (c: Client) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, work);
  }

  private async read(c: Client | pg.Pool, id: string): Promise<Group | undefined> {
    const { rows } = await c.query<GroupRow>('select id, uri, name, attributes, admin_policy, version, updated_at from groups where id = $1', [id]);
    const g = rows[0];
    if (!g) return undefined;
    const members = await c.query<MemberRow>(
      'select subscriber, uri, role, display_name, attributes, share, shared_parts from group_members where group_id = $1 order by position',
      [id],
    );
    return {
      groupId: g.id,
      version: Number(g.version),
      uri: g.uri,
      name: g.name,
      attributes: g.attributes,
      members: members.rows.map(toMember),
      adminPolicy: g.admin_policy,
      updatedAt: g.updated_at.getTime(),
    };
  }

  /** Locks the group's row for this transaction; its current version. */
  private async lock(c: Client, id: string): Promise<number> {
    const { rows } = await c.query<{ version: string }>('select version from groups where id = $1 for update', [id]);
    if (!rows[0]) throw new GroupNotFoundError(`group ${id}`);
    return Number(rows[0].version);
  }

  /** Gives the group its next version and puts the resulting record in the outbox. */
  private async commitChange(c: Client, id: string): Promise<Group> {
    await c.query(`update groups set version = nextval('group_version_seq'), updated_at = clock_timestamp() where id = $1`, [id]);
    const group = (await this.read(c, id))!;
    const json = JSON.stringify(group);
    // Thrown inside the transaction: the change is rolled back, nothing reaches the outbox.
    if (Buffer.byteLength(json) > GROUP_RECORD_MAX_BYTES) throw new GroupTooLargeError(Buffer.byteLength(json));
    await c.query('insert into group_outbox (group_id, version, record) values ($1, $2, $3)', [id, group.version, json]);
    return group;
  }

  private async upsertMember(c: Client, id: string, m: ResolvedMember & MemberSettings): Promise<boolean> {
    const { rows } = await c.query<{ inserted: boolean }>(
      `insert into group_members (group_id, subscriber, uri, role, display_name, attributes, share, shared_parts)
       values ($1, $2, $3, $4, $5, $6, $7, $8)
       on conflict (group_id, subscriber) do update set uri = excluded.uri, role = excluded.role, display_name = excluded.display_name,
         attributes = excluded.attributes, share = excluded.share, shared_parts = excluded.shared_parts, updated_at = now()
       returning (xmax = 0) as inserted`,
      [id, m.subscriber, m.uri, m.role, m.displayName, JSON.stringify(m.attributes), m.share, m.sharedParts],
    );
    return rows[0]!.inserted;
  }

  async create(g: StoredGroup): Promise<Group> {
    try {
      return await this.tx(async (c) => {
        await c.query(`insert into groups (id, uri, name, attributes, admin_policy, version) values ($1, $2, $3, $4, $5, nextval('group_version_seq'))`, [
          g.id,
          g.uri,
          g.name,
          JSON.stringify(g.attributes),
          g.adminPolicy,
        ]);
        for (const m of g.members) await this.upsertMember(c, g.id, m);
        return this.commitChange(c, g.id);
      });
    } catch (err) {
      const e = err as { code?: string; constraint?: string };
      if (e.code === '23505' && e.constraint === 'groups_uri_key') throw new GroupConflictError('uri', g.uri);
      if (e.code === '23505' && e.constraint === 'groups_pkey') throw new GroupConflictError('id', g.id);
      throw err;
    }
  }

  get(id: string): Promise<Group | undefined> {
    return this.read(this.pool, id);
  }

  /** Groups in id order, `limit` at a time after the id `after`. */
  async list(limit: number, after = ''): Promise<Group[]> {
    const { rows } = await this.pool.query<{ id: string }>('select id from groups where id > $1 order by id limit $2', [after, limit]);
    const out: Group[] = [];
    for (const r of rows) {
      const g = await this.read(this.pool, r.id);
      if (g) out.push(g); // deleted in between: skip
    }
    return out;
  }

  async patch(id: string, p: GroupPatch, expected?: number | '*'): Promise<Group> {
    return this.tx(async (c) => {
      checkVersion(expected, await this.lock(c, id));
      if (p.name !== undefined) await c.query('update groups set name = $2 where id = $1', [id, p.name]);
      if (p.adminPolicy !== undefined) await c.query('update groups set admin_policy = $2 where id = $1', [id, p.adminPolicy]);
      if (p.attributes !== undefined) {
        const set = Object.fromEntries(Object.entries(p.attributes).filter(([, v]) => v !== null));
        const removed = Object.keys(p.attributes).filter((k) => p.attributes![k] === null);
        await c.query('update groups set attributes = (attributes - $3::text[]) || $2::jsonb where id = $1', [id, JSON.stringify(set), removed]);
      }
      return this.commitChange(c, id);
    });
  }

  /** Adds a member or replaces its settings; `created` tells which. */
  async putMember(id: string, m: ResolvedMember & MemberSettings, expected?: number | '*'): Promise<{ group: Group; created: boolean }> {
    return this.tx(async (c) => {
      checkVersion(expected, await this.lock(c, id));
      const created = await this.upsertMember(c, id, m);
      return { group: await this.commitChange(c, id), created };
    });
  }

  async removeMember(id: string, subscriber: string, expected?: number | '*'): Promise<Group> {
    return this.tx(async (c) => {
      checkVersion(expected, await this.lock(c, id));
      const { rowCount } = await c.query('delete from group_members where group_id = $1 and subscriber = $2', [id, subscriber]);
      if (!rowCount) throw new GroupNotFoundError(`member ${subscriber} in group ${id}`);
      return this.commitChange(c, id);
    });
  }

  /**
   * A subscriber was deleted: it leaves every group it is in, each a change of its own
   * (new version, outbox record), so the group's record stops naming it. Resolves the groups.
   */
  async removeSubscriberEverywhere(subscriber: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ group_id: string }>('select group_id from group_members where subscriber = $1 order by group_id', [subscriber]);
    const left: string[] = [];
    for (const r of rows) {
      try {
        await this.removeMember(r.group_id, subscriber);
        left.push(r.group_id);
      } catch (err) {
        if (!(err instanceof GroupNotFoundError)) throw err; // removed (or the group deleted) meanwhile
      }
    }
    return left;
  }

  /** Deletes the group and its members; the outbox gets a tombstone with a new version. */
  async delete(id: string, expected?: number | '*'): Promise<number> {
    return this.tx(async (c) => {
      checkVersion(expected, await this.lock(c, id));
      const { rows } = await c.query<{ v: string }>(`select nextval('group_version_seq') as v`);
      const version = Number(rows[0]!.v);
      await c.query('delete from groups where id = $1', [id]);
      await c.query('insert into group_outbox (group_id, version, record) values ($1, $2, null)', [id, version]);
      return version;
    });
  }

  /** Changes committed but not yet acknowledged by Kafka. */
  async outboxBacklog(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>('select count(*) as n from group_outbox');
    return Number(rows[0]!.n);
  }
}
