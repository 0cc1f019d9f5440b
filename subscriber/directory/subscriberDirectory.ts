// The subscriber directory in PostgreSQL: maps IMSI ↔ MSISDN ↔ SIP AoR so
// every identity of a subscriber resolves to one canonical key, tells the
// taps who is one of our subscribers, and learns the pairs that signaling
// reveals. Lookups go through a bounded in-memory cache and are batched, so
// a tap asks the database once per batch of messages, not once per message.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { identityKey, normalisedKey, type IdentityRef } from '../identity/subscriberKey.ts';

export interface DirectoryEntry {
  /** Canonical key; set by the directory when the entry is created. */
  key?: string;
  msisdn: string | null; // '+E164'
  imsi: string | null;
  aor: string | null;
}

const SCHEMA_SQL = readFileSync(new URL('./schema.sql', import.meta.url), 'utf8');

/** Canonical key of a directory entry: the one stored, else MSISDN first, then IMSI, then AoR (identity/subscriberKey.ts). */
export function entryKey(e: DirectoryEntry): string {
  // The table's check guarantees one identity; the last fallback only shows a malformed entry as 'aor:null'.
  return e.key || (normalisedKey(e) ?? identityKey({ kind: 'aor', value: String(e.aor) }));
}

/** The directory's key for one identity, or undefined when the identity is not one of ours. */
export async function directoryKey(directory: Pick<SubscriberDirectory, 'resolveMany'>, ref: IdentityRef): Promise<string | undefined> {
  const found = (await directory.resolveMany([ref])).get(identityKey(ref));
  return found ? entryKey(found) : undefined;
}

export class SubscriberDirectory {
  readonly pool: pg.Pool;
  /** identity → entry (null: known not to be a subscriber). Map order = LRU order. */
  private readonly cache = new Map<string, DirectoryEntry | null>();
  readonly stats = { lookups: 0, cacheHits: 0, queries: 0, learned: 0, conflicts: 0 };

  constructor(
    databaseUrl: string,
    readonly schema = 'presence',
    private readonly cacheSize = 1_000_000,
  ) {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`directory schema name ${schema} is not a plain identifier`);
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 4, options: `-c search_path=${schema}` });
    // An idle connection that drops (database restart, network) is an outage the next query
    // meets and retries; unhandled, the pool's 'error' event would kill the process.
    this.pool.on('error', () => {});
  }

  /** Creates the schema and table if missing. */
  async migrate(): Promise<void> {
    await this.pool.query(`create schema if not exists ${this.schema}`);
    await this.pool.query(SCHEMA_SQL);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** Adds or completes provisioned subscribers (upsert on whichever identity is known). */
  async provision(entries: DirectoryEntry[]): Promise<void> {
    for (let i = 0; i < entries.length; i += 1000) {
      const chunk = entries.slice(i, i + 1000);
      await this.pool.query(
        `insert into subscribers (key, msisdn, imsi, aor, origin)
         select k, m, i, a, 'provisioned'
         from unnest($1::text[], $2::text[], $3::text[], $4::text[]) as t(m, i, a, k)
         on conflict do nothing`,
        [chunk.map((e) => e.msisdn), chunk.map((e) => e.imsi), chunk.map((e) => e.aor), chunk.map((e) => normalisedKey(e) ?? null)],
      );
    }
    this.cache.clear();
  }

  /**
   * Deletes the subscriber that holds this identity (the whole row: all its identities).
   * Resolves its canonical key, or undefined when the identity is not ours. The deletion
   * reaches the event managers and group presence as a directory-changes tombstone.
   */
  async remove(ref: IdentityRef): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ key: string }>(`delete from subscribers where ${ref.kind} = $1 returning key`, [ref.value]);
    this.cache.clear();
    return rows[0]?.key;
  }

  private remember(key: string, entry: DirectoryEntry | null): void {
    this.cache.delete(key);
    this.cache.set(key, entry);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
  }

  /** Resolves many identities in one query; unknown identities map to null. */
  async resolveMany(refs: IdentityRef[]): Promise<Map<string, DirectoryEntry | null>> {
    const out = new Map<string, DirectoryEntry | null>();
    const missing: IdentityRef[] = [];
    for (const r of refs) {
      const k = identityKey(r);
      this.stats.lookups++;
      if (this.cache.has(k)) {
        this.stats.cacheHits++;
        const v = this.cache.get(k)!;
        this.remember(k, v);
        out.set(k, v);
      } else if (!out.has(k)) {
        missing.push(r);
        out.set(k, null);
      }
    }
    if (missing.length === 0) return out;
    this.stats.queries++;
    const by = (kind: IdentityRef['kind']) => missing.filter((r) => r.kind === kind).map((r) => r.value);
    const { rows } = await this.pool.query<DirectoryEntry>(
      'select key, msisdn, imsi, aor from subscribers where msisdn = any($1) or imsi = any($2) or aor = any($3)',
      [by('msisdn'), by('imsi'), by('aor')],
    );
    for (const r of missing) this.remember(identityKey(r), null);
    for (const row of rows) {
      for (const kind of ['msisdn', 'imsi', 'aor'] as const) {
        const v = row[kind];
        if (v === null) continue;
        const k = identityKey({ kind, value: v });
        this.remember(k, row);
        if (out.has(k)) out.set(k, row);
      }
    }
    return out;
  }

  /**
   * Records an IMSI ↔ MSISDN pair that signaling revealed. Completes the
   * existing entry of either identity; creates a learned entry when neither
   * is known (only called for identities already judged ours by the caller).
   * A pair that contradicts the directory is counted, not applied.
   */
  async learn(imsi: string, msisdn: string): Promise<'learned' | 'known' | 'conflict'> {
    const imsiRef: IdentityRef = { kind: 'imsi', value: imsi };
    const msisdnRef: IdentityRef = { kind: 'msisdn', value: msisdn };
    const known = await this.resolveMany([imsiRef, msisdnRef]);
    const a = known.get(identityKey(imsiRef)) ?? null;
    const b = known.get(identityKey(msisdnRef)) ?? null;
    if (a && b) {
      if (a.msisdn === msisdn && b.imsi === imsi) return 'known';
      this.stats.conflicts++;
      return 'conflict';
    }
    if ((a && a.msisdn && a.msisdn !== msisdn) || (b && b.imsi && b.imsi !== imsi)) {
      this.stats.conflicts++;
      return 'conflict';
    }
    if (a) await this.pool.query(`update subscribers set msisdn = $1, updated_at = now() where imsi = $2 and msisdn is null`, [msisdn, imsi]);
    else if (b) await this.pool.query(`update subscribers set imsi = $1, updated_at = now() where msisdn = $2 and imsi is null`, [imsi, msisdn]);
    else
      await this.pool.query(`insert into subscribers (key, imsi, msisdn, origin) values ($3, $1, $2, 'learned') on conflict do nothing`, [
        imsi,
        msisdn,
        identityKey(msisdnRef),
      ]);
    const entry: DirectoryEntry = { key: a?.key ?? b?.key ?? identityKey(msisdnRef), imsi, msisdn, aor: a?.aor ?? b?.aor ?? null };
    this.remember(identityKey(imsiRef), entry);
    this.remember(identityKey(msisdnRef), entry);
    if (entry.aor) this.remember(identityKey({ kind: 'aor', value: entry.aor }), entry);
    this.stats.learned++;
    return 'learned';
  }
}
