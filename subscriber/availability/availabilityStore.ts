// Availability profiles (and the earlier single-mode settings) from PostgreSQL,
// cached briefly and looked up in batches, for the connectability the event
// manager computes per watcher.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { UserProfiles } from './availabilityProfile.ts';
import { parseUserProfiles, ProfileValidationError } from './profileValidation.ts';
import { DEFAULT_PROFILES, profilesFromSettings, type AvailabilitySettings } from './settingsProfile.ts';

const SCHEMA_SQL = readFileSync(new URL('./schema.sql', import.meta.url), 'utf8');
const MODES = ['available', 'busy', 'do-not-disturb', 'away'] as const;

export function parseMode(raw: string): AvailabilitySettings['mode'] {
  if (!(MODES as readonly string[]).includes(raw)) throw new Error(`availability mode must be one of ${MODES.join(', ')}, not ${raw}`);
  return raw as AvailabilitySettings['mode'];
}

/**
 * A stored row is validated when written; one that no longer is (edited by hand,
 * written by a newer version) must not stop every batch of the partition: the
 * subscriber is taken as available, unscreened, and the reason logged once per load.
 */
function storedProfiles(subscriber: string, raw: unknown): UserProfiles {
  try {
    return parseUserProfiles(raw);
  } catch (err) {
    if (!(err instanceof ProfileValidationError)) throw err;
    console.warn(`availability_profiles row of ${subscriber} is invalid (${err.message}): taken as available`);
    return DEFAULT_PROFILES;
  }
}

export class AvailabilityStore {
  private readonly pool: pg.Pool;
  private readonly cache = new Map<string, { profiles: UserProfiles; until: number }>();

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

  /** Replaces the subscriber's profiles (validated here too: the database holds only valid ones). */
  async setProfiles(subscriber: string, raw: unknown): Promise<UserProfiles> {
    const profiles = parseUserProfiles(raw);
    await this.pool.query(
      `insert into availability_profiles (subscriber, profiles) values ($1, $2)
       on conflict (subscriber) do update set profiles = excluded.profiles, updated_at = now()`,
      [subscriber, JSON.stringify(profiles)],
    );
    this.cache.delete(subscriber);
    return profiles;
  }

  /**
   * Makes `profile` the active one (and optionally sets or clears its manual mode).
   * Read, change, then write only if the row is still the one read (compare-and-set
   * on the row version, xmin): a concurrent change makes it read again, never lost.
   */
  async activate(subscriber: string, profile: string, manualMode?: string | null): Promise<UserProfiles> {
    for (let attempt = 0; ; attempt++) {
      const { rows } = await this.pool.query<{ profiles: unknown; row_version: string }>(
        'select profiles, xmin::text as row_version from availability_profiles where subscriber = $1',
        [subscriber],
      );
      if (!rows[0]) throw new ProfileValidationError('subscriber', `${subscriber} has no profiles (set them first)`);
      const current = parseUserProfiles(rows[0].profiles);
      const next = parseUserProfiles({
        ...current,
        active: profile,
        profiles: current.profiles.map((p) => (p.name === profile && manualMode !== undefined ? { ...p, manualMode } : p)),
      });
      const written = await this.pool.query('update availability_profiles set profiles = $3, updated_at = now() where subscriber = $1 and xmin::text = $2', [
        subscriber,
        rows[0].row_version,
        JSON.stringify(next),
      ]);
      if (written.rowCount === 1) {
        this.cache.delete(subscriber);
        return next;
      }
      if (attempt >= 10) throw new Error(`profiles of ${subscriber} keep changing concurrently; try again`);
    }
  }

  /**
   * Profiles of many subscribers in two queries: the profiles row, else the earlier
   * settings row as a one-mode profile, else the default (available, unscreened).
   */
  async getMany(subscribers: string[], nowMs = Date.now()): Promise<Map<string, UserProfiles>> {
    const out = new Map<string, UserProfiles>();
    const missing: string[] = [];
    for (const k of new Set(subscribers)) {
      // PostgreSQL text cannot hold a NUL (SQLSTATE 22021): such a key has no row, and
      // asking would fail the whole batch's query, again on every retry.
      if (k.includes('\u0000')) {
        out.set(k, DEFAULT_PROFILES);
        continue;
      }
      const hit = this.cache.get(k);
      if (hit && hit.until > nowMs) out.set(k, hit.profiles);
      else missing.push(k);
    }
    if (missing.length) {
      const [withProfiles, withSettings] = await Promise.all([
        this.pool.query<{ subscriber: string; profiles: unknown }>('select subscriber, profiles from availability_profiles where subscriber = any($1)', [
          missing,
        ]),
        this.pool.query<{ subscriber: string; mode: string; forward_to: string | null; screening: string }>(
          'select subscriber, mode, forward_to, screening from availability where subscriber = any($1)',
          [missing],
        ),
      ]);
      const profiled = new Map(withProfiles.rows.map((r) => [r.subscriber, r.profiles]));
      const settled = new Map(withSettings.rows.map((r) => [r.subscriber, r]));
      for (const k of missing) {
        const p = profiled.get(k);
        const r = settled.get(k);
        const profiles = p
          ? storedProfiles(k, p)
          : r
            ? profilesFromSettings({
                mode: parseMode(r.mode),
                ...(r.forward_to ? { forwardTo: r.forward_to } : {}),
                screening: r.screening === 'contacts-only' ? 'contacts-only' : 'none',
              })
            : DEFAULT_PROFILES;
        this.cache.set(k, { profiles, until: nowMs + this.ttlMs });
        out.set(k, profiles);
      }
    }
    return out;
  }

  /** The database answers (for /healthz). */
  async ping(): Promise<void> {
    await this.pool.query('select 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
