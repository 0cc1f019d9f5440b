// The SIP credentials store in PostgreSQL (schema.sql): HA1 hashes per
// username and realm with the identity they authenticate as, and who may
// PUBLISH for whom. Lookups are cached briefly, so a burst of requests from
// one handset costs one query, and a changed password takes effect within
// the cache's lifetime.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { digestHa1, type DigestAlgorithm } from '../../protocols/sip/auth/digest.ts';

const SCHEMA_SQL = readFileSync(new URL('./schema.sql', import.meta.url), 'utf8');

export interface SipCredential {
  readonly username: string;
  readonly realm: string;
  readonly identity: string;
  readonly ha1: Readonly<Record<DigestAlgorithm, string>>;
}

export class SipCredentials {
  readonly pool: pg.Pool;
  private readonly cache = new Map<string, { at: number; value: SipCredential | null }>();
  private claims = 0;

  constructor(
    databaseUrl: string,
    readonly schema = 'presence',
    private readonly cacheMs = 10_000,
  ) {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`credentials schema name ${schema} is not a plain identifier`);
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 4, options: `-c search_path=${schema}` });
    this.pool.on('error', () => {}); // an idle connection dropping is an outage the next query meets
  }

  async migrate(): Promise<void> {
    await this.pool.query(`create schema if not exists ${this.schema}`);
    await this.pool.query(SCHEMA_SQL);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** Sets (or replaces) a username's password in a realm; only its HA1s are stored. */
  async set(username: string, realm: string, identity: string, password: string): Promise<void> {
    if (!password) throw new Error('the password is empty');
    await this.pool.query(
      `insert into sip_credentials (username, realm, identity, ha1_md5, ha1_sha256) values ($1, $2, $3, $4, $5)
       on conflict (username, realm) do update set identity = excluded.identity, ha1_md5 = excluded.ha1_md5, ha1_sha256 = excluded.ha1_sha256, updated_at = now()`,
      [username, realm, identity, digestHa1('MD5', username, realm, password), digestHa1('SHA-256', username, realm, password)],
    );
    this.cache.delete(`${username}\n${realm}`);
  }

  /** Removes a username's credentials; false when there were none. */
  async remove(username: string, realm: string): Promise<boolean> {
    this.cache.delete(`${username}\n${realm}`);
    return ((await this.pool.query('delete from sip_credentials where username = $1 and realm = $2', [username, realm])).rowCount ?? 0) > 0;
  }

  async lookup(username: string, realm: string, now = Date.now()): Promise<SipCredential | undefined> {
    const key = `${username}\n${realm}`;
    const hit = this.cache.get(key);
    if (hit && now - hit.at < this.cacheMs) return hit.value ?? undefined;
    const r = await this.pool.query<{ identity: string; ha1_md5: string; ha1_sha256: string }>(
      'select identity, ha1_md5, ha1_sha256 from sip_credentials where username = $1 and realm = $2',
      [username, realm],
    );
    const row = r.rows[0];
    const value = row ? { username, realm, identity: row.identity, ha1: { MD5: row.ha1_md5, 'SHA-256': row.ha1_sha256 } } : null;
    if (this.cache.size > 100_000) this.cache.clear();
    this.cache.set(key, { at: now, value });
    return value ?? undefined;
  }

  async delegate(presentity: string, delegate: string): Promise<void> {
    await this.pool.query('insert into publish_delegates (presentity, delegate) values ($1, $2) on conflict do nothing', [presentity, delegate]);
  }

  /** Takes a delegation back; false when there was none. */
  async undelegate(presentity: string, delegate: string): Promise<boolean> {
    return ((await this.pool.query('delete from publish_delegates where presentity = $1 and delegate = $2', [presentity, delegate])).rowCount ?? 0) > 0;
  }

  /** Whether `delegate` (a subscriber key) may PUBLISH for `presentity` (a subscriber key). */
  /**
   * Records one use of a nonce for every front end sharing this database: true the first time
   * (nonce, nc, cnonce) is offered anywhere, false for a replay. Forgotten once `validForMs` has
   * passed (the nonce is stale by then); expired uses are swept every 1,000 claims.
   */
  async claimNonceUse(nonce: string, nc: string, cnonce: string, validForMs: number): Promise<boolean> {
    if (++this.claims % 1000 === 0) await this.pool.query('delete from sip_nonce_uses where expires_at < now()');
    const r = await this.pool.query(
      `insert into sip_nonce_uses (nonce, nc, cnonce, expires_at) values ($1, $2, $3, now() + $4 * interval '1 millisecond') on conflict do nothing`,
      [nonce, nc, cnonce, validForMs],
    );
    return (r.rowCount ?? 0) === 1;
  }

  async mayPublishFor(presentity: string, delegate: string): Promise<boolean> {
    return ((await this.pool.query('select 1 from publish_delegates where presentity = $1 and delegate = $2', [presentity, delegate])).rowCount ?? 0) > 0;
  }
}
