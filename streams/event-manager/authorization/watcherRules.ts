// Per-presentity authorization of watchers, from PostgreSQL, cached briefly:
// allow, allow-location (allow, and the network's position of the subscriber),
// allow-presence (presence, and the lamp's state without call details),
// block, polite-block (sees a closed presence), confirm (pending until the
// presentity decides). Watchers without a rule get the default.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { WatcherConsent } from '../../../schemas/generated/records.ts';
import { announceCommit } from '../../../kafka/outboxWakeup.ts';
import { watcherIdentity } from '../../../subscriber/identity/watcherIdentity.ts';
import { WATCHER_DECISIONS, type WatcherDecision } from '../subscriptions/watcherDialog.ts';

const SCHEMA_SQL = readFileSync(new URL('./schema.sql', import.meta.url), 'utf8');
const DECISIONS = WATCHER_DECISIONS;

export function parseDecision(raw: string, what: string): WatcherDecision {
  if (!DECISIONS.includes(raw as WatcherDecision)) throw new Error(`${what} must be one of ${DECISIONS.join(', ')}, not ${raw}`);
  return raw as WatcherDecision;
}

export class WatcherRules {
  /** Also the rules outbox relay's (services/availability-service/watcherConsents.ts). */
  readonly pool: pg.Pool;
  private readonly cache = new Map<string, { decision: WatcherDecision; until: number }>();

  constructor(
    databaseUrl: string,
    readonly defaultDecision: WatcherDecision,
    readonly schema = 'presence',
    private readonly ttlMs = 5000,
  ) {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`rules schema name ${schema} is not a plain identifier`);
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
   * Stores the rule and, in the same transaction, the outbox row that carries it to the owning
   * event manager (so its live dialogs follow within a second, not at their next refresh).
   */
  async set(presentity: string, watcher: string, decision: WatcherDecision, source = 'presence-rules-cli'): Promise<WatcherConsent> {
    const who = watcher.startsWith('*@') ? watcher.toLowerCase() : watcherIdentity(watcher);
    const consent: WatcherConsent = { consentId: randomUUID(), presentity, watcher: who, decision, decidedAt: Date.now(), source };
    const c = await this.pool.connect();
    try {
      await c.query('begin');
      await c.query(
        `insert into watcher_rules (presentity, watcher, decision) values ($1, $2, $3)
         on conflict (presentity, watcher) do update set decision = excluded.decision, updated_at = now()`,
        [presentity, who, decision],
      );
      await c.query(`insert into watcher_rule_outbox (presentity, record) values ($1, $2)`, [presentity, JSON.stringify(consent)]);
      // Wakes the relay (services/availability-service/watcherConsents.ts) at commit, not at its next poll.
      await announceCommit(c, 'watcher_rule_outbox', this.schema, presentity);
      await c.query('commit');
    } catch (err) {
      await c.query('rollback').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
    this.cache.clear();
    return consent;
  }

  /** Rule changes not yet relayed. */
  async outboxBacklog(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(`select count(*) as n from watcher_rule_outbox`);
    return Number(rows[0]!.n);
  }

  /** Drops the cached decisions about a watcher (or a *@domain) of a presentity: its rule just changed elsewhere. */
  forget(presentity: string, watcher: string): void {
    const who = watcher.startsWith('*@') ? null : watcherIdentity(watcher);
    const domain = watcher.startsWith('*@') ? watcher.slice(1).toLowerCase() : null;
    for (const k of this.cache.keys()) {
      const [p, w] = k.split('\u0000') as [string, string];
      if (p === presentity && (w === who || (domain !== null && w.toLowerCase().endsWith(domain)))) this.cache.delete(k);
    }
  }

  async decide(presentity: string, watcherUri: string, nowMs = Date.now()): Promise<WatcherDecision> {
    const who = watcherIdentity(watcherUri);
    const key = `${presentity}\u0000${who}`;
    const hit = this.cache.get(key);
    if (hit && hit.until > nowMs) return hit.decision;
    const domain = who.includes('@') ? `*@${who.slice(who.lastIndexOf('@') + 1)}` : null;
    const { rows } = await this.pool.query<{ watcher: string; decision: string }>(
      'select watcher, decision from watcher_rules where presentity = $1 and watcher = any($2)',
      [presentity, domain ? [who, domain] : [who]],
    );
    // An exact rule beats a domain rule.
    const row = rows.find((r) => r.watcher === who) ?? rows[0];
    const decision = row ? parseDecision(row.decision, 'stored rule') : this.defaultDecision;
    this.cache.set(key, { decision, until: nowMs + this.ttlMs });
    return decision;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
