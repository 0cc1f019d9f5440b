// PostgreSQL table `group_presence`: the current GroupPresence of each group
// (one row per group id). Newer versions win; a tombstone deletes the row.
// The HTTP view reads it back as the GroupPresence record it came from.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { GroupPresence, GroupPresenceMember } from '../../../schemas/generated/records.ts';
import { inTransaction } from '../../../kafka/pgTransaction.ts';

const SCHEMA_SQL = readFileSync(new URL('./schema.sql', import.meta.url), 'utf8');

type Upserted = 'stored' | 'stale';

interface Row {
  group_id: string;
  version: string;
  uri: string;
  name: string;
  admin_policy: string;
  member_count: number;
  available_count: number;
  content_type: string;
  document: string;
  group_info: string;
  members: GroupPresenceMember[];
  updated_at: Date;
}

export class GroupPresenceTable {
  private readonly pool: pg.Pool;

  /** `schema`: the PostgreSQL schema of the table (tests use their own). */
  constructor(
    databaseUrl: string,
    readonly schema = 'presence',
  ) {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`group presence schema name ${schema} is not a plain identifier`);
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 4, options: `-c search_path=${schema}` });
    // An idle client losing its connection (database restart) must not crash the sink or the
    // HTTP view; the pool drops that client and the next query reconnects (or answers 503).
    this.pool.on('error', () => {});
  }

  async migrate(): Promise<void> {
    await this.pool.query(`create schema if not exists ${this.schema}`);
    await this.pool.query(SCHEMA_SQL);
  }

  /**
   * Applies a batch in one transaction, in order: a record is stored when its
   * group has no row or an older version; null (tombstone) deletes. Returns
   * per entry what happened.
   */
  async applyBatch(entries: ReadonlyArray<{ groupId: string; value: GroupPresence | null }>): Promise<Array<Upserted | 'deleted' | 'absent'>> {
    if (entries.length === 0) return [];
    return inTransaction(this.pool, async (c) => {
      const out: Array<Upserted | 'deleted' | 'absent'> = [];
      for (const e of entries) out.push(e.value === null ? await remove(c, e.groupId) : await upsert(c, e.groupId, e.value));
      return out;
    });
  }

  async upsert(value: GroupPresence): Promise<Upserted> {
    return (await this.applyBatch([{ groupId: value.groupId, value }]))[0] as Upserted;
  }

  /** The stored record of a group, or undefined. */
  async get(groupId: string): Promise<GroupPresence | undefined> {
    const { rows } = await this.pool.query<Row>('select * from group_presence where group_id = $1', [groupId]);
    const r = rows[0];
    if (!r) return undefined;
    return {
      groupId: r.group_id,
      version: Number(r.version),
      memberCount: r.member_count,
      availableCount: r.available_count,
      contentType: r.content_type,
      document: r.document,
      updatedAt: r.updated_at.getTime(),
      uri: r.uri,
      name: r.name,
      adminPolicy: r.admin_policy,
      groupInfo: r.group_info,
      members: r.members,
    };
  }

  async count(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>('select count(*) as n from group_presence');
    return Number(rows[0]!.n);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

async function upsert(c: pg.PoolClient, groupId: string, v: GroupPresence): Promise<Upserted> {
  const { rowCount } = await c.query(
    `insert into group_presence (group_id, version, uri, name, admin_policy, member_count, available_count, content_type, document, group_info, members, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, to_timestamp($12::double precision / 1000))
     on conflict (group_id) do update set
       version = excluded.version, uri = excluded.uri, name = excluded.name, admin_policy = excluded.admin_policy,
       member_count = excluded.member_count, available_count = excluded.available_count, content_type = excluded.content_type,
       document = excluded.document, group_info = excluded.group_info, members = excluded.members, updated_at = excluded.updated_at, stored_at = now()
     where group_presence.version < excluded.version`,
    [
      groupId,
      v.version,
      v.uri,
      v.name,
      v.adminPolicy,
      v.memberCount,
      v.availableCount,
      v.contentType,
      v.document,
      v.groupInfo,
      JSON.stringify(v.members),
      v.updatedAt,
    ],
  );
  return rowCount === 1 ? 'stored' : 'stale';
}

async function remove(c: pg.PoolClient, groupId: string): Promise<'deleted' | 'absent'> {
  const { rowCount } = await c.query('delete from group_presence where group_id = $1', [groupId]);
  return rowCount ? 'deleted' : 'absent';
}
