// Availability settings from PostgreSQL, cached briefly and looked up in
// batches, for the connectability the event manager publishes.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { DEFAULT_AVAILABILITY, type AvailabilitySettings } from '../presence/connectability.ts';

const SCHEMA_SQL = readFileSync(new URL('./schema.sql', import.meta.url), 'utf8');
const MODES = ['available', 'busy', 'do-not-disturb', 'away'] as const;

export function parseMode(raw: string): AvailabilitySettings['mode'] {
  if (!(MODES as readonly string[]).includes(raw)) throw new Error(`availability mode must be one of ${MODES.join(', ')}, not ${raw}`);
  return raw as AvailabilitySettings['mode'];
}

export class AvailabilityStore {
  private readonly pool: pg.Pool;
  private readonly cache = new Map<string, { settings: AvailabilitySettings; until: number }>();

  constructor(
    databaseUrl: string,
    readonly schema = 'presence',
    private readonly ttlMs = 5000,
  ) {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`availability schema name ${schema} is not a plain identifier`);
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 2, options: `-c search_path=${schema}` });
    // An idle connection that drops (database restart, network) is an outage the next query
    // meets and retries; unhandled, the pool's 'error' event would kill the process.
    this.pool.on('error', () => {});
  }

  async migrate(): Promise<void> {
    await this.pool.query(`create schema if not exists ${this.schema}`);
    await this.pool.query(SCHEMA_SQL);
  }

  async set(subscriber: string, s: AvailabilitySettings): Promise<void> {
    await this.pool.query(
      `insert into availability (subscriber, mode, forward_to, screening) values ($1, $2, $3, $4)
       on conflict (subscriber) do update set mode = excluded.mode, forward_to = excluded.forward_to, screening = excluded.screening, updated_at = now()`,
      [subscriber, s.mode, s.forwardTo ?? null, s.screening ?? 'none'],
    );
    this.cache.delete(subscriber);
  }

  /** Settings of many subscribers in one query (missing ones: the default). */
  async getMany(subscribers: string[], nowMs = Date.now()): Promise<Map<string, AvailabilitySettings>> {
    const out = new Map<string, AvailabilitySettings>();
    const missing: string[] = [];
    for (const k of new Set(subscribers)) {
      // PostgreSQL text cannot hold a NUL (SQLSTATE 22021): such a key has no row, and
      // asking would fail the whole batch's query, again on every retry.
      if (k.includes('\u0000')) {
        out.set(k, DEFAULT_AVAILABILITY);
        continue;
      }
      const hit = this.cache.get(k);
      if (hit && hit.until > nowMs) out.set(k, hit.settings);
      else missing.push(k);
    }
    if (missing.length) {
      const { rows } = await this.pool.query<{ subscriber: string; mode: string; forward_to: string | null; screening: string }>(
        'select subscriber, mode, forward_to, screening from availability where subscriber = any($1)',
        [missing],
      );
      const found = new Map(rows.map((r) => [r.subscriber, r]));
      for (const k of missing) {
        const r = found.get(k);
        const settings: AvailabilitySettings = r
          ? {
              mode: parseMode(r.mode),
              ...(r.forward_to ? { forwardTo: r.forward_to } : {}),
              screening: r.screening === 'contacts-only' ? 'contacts-only' : 'none',
            }
          : DEFAULT_AVAILABILITY;
        this.cache.set(k, { settings, until: nowMs + this.ttlMs });
        out.set(k, settings);
      }
    }
    return out;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
