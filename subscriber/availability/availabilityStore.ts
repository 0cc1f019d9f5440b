// Availability profiles (and the earlier single-mode settings) from PostgreSQL,
// cached briefly and looked up in batches, for the connectability the event
// manager computes per watcher. Every change is written with a new version and,
// in the same transaction, an outbox row (ProfileChange) that the availability
// service relays to Kafka, so the owning event manager applies it within a second.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { UserProfiles } from './availabilityProfile.ts';
import { parseUserProfiles, ProfileValidationError } from './profileValidation.ts';
import { DEFAULT_PROFILES, profilesFromSettings, type AvailabilitySettings } from './settingsProfile.ts';

const SCHEMA_SQL = readFileSync(new URL('./schema.sql', import.meta.url), 'utf8');
const MODES = ['available', 'busy', 'do-not-disturb', 'away'] as const;
/** The largest change record (profiles and previous profiles, as JSON) the outbox takes: under Kafka's default 1 MiB message size. */
export const MAX_CHANGE_RECORD_BYTES = 900_000;

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

/**
 * One committed change, as the outbox holds it (the availability-profiles record
 * of services/availability-service): the profiles now in force and those just before.
 */
export interface ProfileChange {
  subscriber: string;
  /** From availability_profile_version_seq: increases with every change of any subscriber. */
  version: number;
  profiles: UserProfiles;
  previous: UserProfiles;
  /** Epoch ms, the database's clock at the change. */
  changedAt: number;
  cause: 'profiles' | 'activation' | 'settings';
}

/** The profiles in force for a subscriber from its rows: profiles, else the earlier settings, else the default. */
function effectiveProfiles(
  subscriber: string,
  profilesRow: unknown,
  settingsRow: { mode: string; forward_to: string | null; screening: string } | undefined,
): UserProfiles {
  if (profilesRow !== undefined) return storedProfiles(subscriber, profilesRow);
  if (settingsRow)
    return profilesFromSettings({
      mode: parseMode(settingsRow.mode),
      ...(settingsRow.forward_to ? { forwardTo: settingsRow.forward_to } : {}),
      screening: settingsRow.screening === 'contacts-only' ? 'contacts-only' : 'none',
    });
  return DEFAULT_PROFILES;
}

export class AvailabilityStore {
  /** Also the outbox relay's (services/availability-service). */
  readonly pool: pg.Pool;
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

  /**
   * Runs `change` in a transaction holding the subscriber's advisory lock: changes
   * of one subscriber are serialized, so their versions and outbox rows follow the
   * order they commit in (a version drawn before waiting could commit after a newer one).
   */
  private async changing<T>(subscriber: string, change: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    // The database going away mid-change emits 'error' on the checked-out client (the pool listens only to idle
    // ones): unheard it would end the process; the change's query fails as well and the caller answers 503.
    let broken: Error | undefined;
    const onError = (err: Error) => (broken = err);
    c.on('error', onError);
    try {
      await c.query('begin');
      await c.query('select pg_advisory_xact_lock(hashtext($1))', [`presence.availability.${this.schema}.${subscriber}`]);
      const out = await change(c);
      await c.query('commit');
      return out;
    } catch (err) {
      await c.query('rollback').catch(() => {});
      throw err;
    } finally {
      c.off('error', onError);
      c.release(broken);
    }
  }

  /** The profiles in force now, read inside a change's transaction. */
  private async effectiveIn(c: pg.PoolClient, subscriber: string): Promise<{ profiles: UserProfiles; hasProfilesRow: boolean }> {
    // One after the other: a client runs one query at a time (pg deprecates queueing them).
    const p = await c.query<{ profiles: unknown }>('select profiles from availability_profiles where subscriber = $1', [subscriber]);
    const st = await c.query<{ mode: string; forward_to: string | null; screening: string }>(
      'select mode, forward_to, screening from availability where subscriber = $1',
      [subscriber],
    );
    return { profiles: effectiveProfiles(subscriber, p.rows[0]?.profiles, st.rows[0]), hasProfilesRow: p.rows.length > 0 };
  }

  /** A new version and the database's time, drawn under the subscriber's lock. */
  private async nextVersion(c: pg.PoolClient): Promise<{ version: number; at: number }> {
    const { rows } = await c.query<{ version: string; at: string }>(
      `select nextval('availability_profile_version_seq') as version, (extract(epoch from clock_timestamp()) * 1000)::bigint as at`,
    );
    return { version: Number(rows[0]!.version), at: Number(rows[0]!.at) };
  }

  private async enqueue(c: pg.PoolClient, change: ProfileChange): Promise<void> {
    const json = JSON.stringify(change);
    // A record Kafka refuses (over its 1 MiB default) would stay at the head of the outbox and hold back every later
    // change: refused here, inside the transaction, so the change is rolled back and the caller told.
    if (Buffer.byteLength(json) > MAX_CHANGE_RECORD_BYTES)
      throw new ProfileValidationError(
        'profiles',
        `too large: with the previous profiles the change record would be ${Buffer.byteLength(json)} bytes, over ${MAX_CHANGE_RECORD_BYTES}`,
      );
    await c.query('insert into availability_outbox (subscriber, version, record) values ($1, $2, $3)', [change.subscriber, change.version, json]);
    // A writer in another process (the CLI) wakes the availability service's relay at commit, not at its next poll:
    // the channel is kafka/outboxWakeup.ts outboxChannel('availability_outbox', schema) (a floor above this one).
    await c.query('select pg_notify($1, $2)', [`availability_outbox_${this.schema}`, change.subscriber]);
  }

  /** The earlier single-mode settings; when no profiles row supersedes them, the change goes to the outbox too. */
  async set(subscriber: string, s: AvailabilitySettings): Promise<void> {
    await this.changing(subscriber, async (c) => {
      const before = await this.effectiveIn(c, subscriber);
      await c.query(
        `insert into availability (subscriber, mode, forward_to, screening) values ($1, $2, $3, $4)
         on conflict (subscriber) do update set mode = excluded.mode, forward_to = excluded.forward_to, screening = excluded.screening, updated_at = now()`,
        [subscriber, s.mode, s.forwardTo ?? null, s.screening ?? 'none'],
      );
      if (before.hasProfilesRow) return;
      const { version, at } = await this.nextVersion(c);
      const profiles = profilesFromSettings({ mode: s.mode, ...(s.forwardTo ? { forwardTo: s.forwardTo } : {}), screening: s.screening ?? 'none' });
      await this.enqueue(c, { subscriber, version, profiles, previous: before.profiles, changedAt: at, cause: 'settings' });
    });
    this.cache.delete(subscriber);
  }

  /** Replaces the subscriber's profiles (validated here too: the database holds only valid ones). */
  async setProfiles(subscriber: string, raw: unknown): Promise<UserProfiles> {
    const profiles = parseUserProfiles(raw);
    await this.changing(subscriber, async (c) => {
      const before = await this.effectiveIn(c, subscriber);
      const { version, at } = await this.nextVersion(c);
      await c.query(
        `insert into availability_profiles (subscriber, profiles, version) values ($1, $2, $3)
         on conflict (subscriber) do update set profiles = excluded.profiles, version = excluded.version, updated_at = now()`,
        [subscriber, JSON.stringify(profiles), version],
      );
      await this.enqueue(c, { subscriber, version, profiles, previous: before.profiles, changedAt: at, cause: 'profiles' });
    });
    this.cache.delete(subscriber);
    return profiles;
  }

  /**
   * Makes `profile` the active one (and optionally sets or clears its manual mode).
   * Read, change and write under the subscriber's lock: a concurrent change waits
   * and then applies to this one's result, never lost.
   */
  async activate(subscriber: string, profile: string, manualMode?: string | null): Promise<UserProfiles> {
    const next = await this.changing(subscriber, async (c) => {
      const { rows } = await c.query<{ profiles: unknown }>('select profiles from availability_profiles where subscriber = $1', [subscriber]);
      if (!rows[0]) throw new ProfileValidationError('subscriber', `${subscriber} has no profiles (set them first)`);
      const current = parseUserProfiles(rows[0].profiles);
      const next = parseUserProfiles({
        ...current,
        active: profile,
        profiles: current.profiles.map((p) => (p.name === profile && manualMode !== undefined ? { ...p, manualMode } : p)),
      });
      const { version, at } = await this.nextVersion(c);
      await c.query('update availability_profiles set profiles = $2, version = $3, updated_at = now() where subscriber = $1', [
        subscriber,
        JSON.stringify(next),
        version,
      ]);
      await this.enqueue(c, { subscriber, version, profiles: next, previous: current, changedAt: at, cause: 'activation' });
      return next;
    });
    this.cache.delete(subscriber);
    return next;
  }

  /**
   * The profiles a change record carries, as the owning event manager applies them:
   * later lookups in this process see them without asking the database.
   */
  prime(subscriber: string, profiles: UserProfiles, nowMs = Date.now()): void {
    this.cache.set(subscriber, { profiles, until: nowMs + this.ttlMs });
  }

  /** Drops every cached entry (partitions moved: a subscriber this process owned again may have changed meanwhile). */
  forgetCached(): void {
    this.cache.clear();
  }

  /** Changes committed but not yet relayed to Kafka. */
  async outboxBacklog(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>('select count(*) as n from availability_outbox');
    return Number(rows[0]!.n);
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
        const profiles = effectiveProfiles(k, profiled.get(k), settled.get(k));
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
