// The event service's PostgreSQL side (schema.sql): registrations, the event log
// with each event's recipients (notified or not, when, attempts, the answer),
// pull cursors, and retention. Logging an event and its recipients is one
// transaction, idempotent on the event id, so the consumer may re-read a batch.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { inTransaction } from '../../kafka/pgTransaction.ts';
import type { ServiceEventJson } from '../../schemas/serviceEventCatalogue.ts';
import { wants, type ContactListMembers, type DeliveryMode, type EventSubscription, type Registration } from './serviceRegistration.ts';

const SCHEMA_SQL = readFileSync(new URL('./schema.sql', import.meta.url), 'utf8');

/** A logged event as services see it, with its position in the log (the pull cursor, the SSE id). */
export interface LoggedEvent extends ServiceEventJson {
  cursor: number;
}

export interface Recipient {
  service: string;
  delivery: DeliveryMode;
  notified: boolean;
  notifiedAt: string | null;
  attempts: number;
  answer: { status: number | null; body: string | null } | null;
}

/** The head of one (service, subscriber) queue of webhook deliveries: the oldest not yet notified. */
export interface PendingDelivery {
  event: LoggedEvent;
  service: string;
  url: string;
  secret: string;
  attempts: number;
  due: boolean;
}

interface RegistrationRow {
  name: string;
  publishes: string[];
  subscriptions: EventSubscription[];
  delivery: DeliveryMode;
  webhook_url: string | null;
  webhook_secret: string | null;
}

interface EventRow {
  seq: string;
  event_id: string;
  type: string;
  subject: string;
  event_time: Date;
  source: string;
  payload: unknown;
}

const registration = (r: RegistrationRow): Registration => ({
  name: r.name,
  publishes: r.publishes,
  subscriptions: r.subscriptions,
  delivery: r.delivery,
  webhookUrl: r.webhook_url,
  webhookSecret: r.webhook_secret,
});

const loggedEvent = (r: EventRow): LoggedEvent => ({
  cursor: Number(r.seq),
  eventId: r.event_id,
  type: r.type,
  subject: r.subject,
  time: r.event_time.toISOString(),
  source: r.source,
  payload: r.payload,
});

const EVENT_COLUMNS = 'e.seq, e.event_id, e.type, e.subject, e.event_time, e.source, e.payload';

export class EventStore {
  readonly pool: pg.Pool;

  constructor(
    databaseUrl: string,
    readonly schema: string,
  ) {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`schema name ${schema} must be a lower-case SQL identifier`);
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 8, options: `-c search_path=${schema}` });
    // An idle client losing its server is reported here; the next query gets a fresh one.
    this.pool.on('error', () => {});
  }

  async migrate(): Promise<void> {
    await this.pool.query(`create schema if not exists ${this.schema}`);
    await this.pool.query(SCHEMA_SQL);
  }

  async ping(): Promise<void> {
    await this.pool.query('select 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  async register(r: Registration): Promise<{ created: boolean }> {
    const { rows } = await this.pool.query<{ created: boolean }>(
      `insert into event_services (name, publishes, subscriptions, delivery, webhook_url, webhook_secret)
       values ($1, $2, $3, $4, $5, $6)
       on conflict (name) do update set publishes = excluded.publishes, subscriptions = excluded.subscriptions, delivery = excluded.delivery,
         webhook_url = excluded.webhook_url, webhook_secret = excluded.webhook_secret, updated_at = now()
       returning (xmax = 0) as created`,
      [r.name, r.publishes, JSON.stringify(r.subscriptions), r.delivery, r.webhookUrl, r.webhookSecret],
    );
    return { created: rows[0]!.created };
  }

  async registration(name: string): Promise<Registration | undefined> {
    const { rows } = await this.pool.query<RegistrationRow>('select * from event_services where name = $1', [name]);
    return rows[0] ? registration(rows[0]) : undefined;
  }

  async registrations(): Promise<Registration[]> {
    const { rows } = await this.pool.query<RegistrationRow>('select * from event_services order by name');
    return rows.map(registration);
  }

  /** Removes a registration; its log rows stay (who was told what), its pending deliveries stop. */
  async remove(name: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('delete from event_services where name = $1', [name]);
    return (rowCount ?? 0) > 0;
  }

  /**
   * Logs events with the recipients the registrations give at this moment, in one transaction.
   * An event id already logged is skipped (a re-read batch, a replay). Returns how many were new.
   */
  async logEvents(
    events: readonly ServiceEventJson[],
    contactLists?: (regs: readonly Registration[]) => Promise<ContactListMembers>,
  ): Promise<{ logged: number; recipients: number }> {
    return inTransaction(this.pool, async (c) => {
      const { rows: regRows } = await c.query<RegistrationRow>('select * from event_services');
      const regs = regRows.map(registration);
      // Contact-list subscriptions match the lists as they are when the batch is logged.
      const lists = contactLists ? await contactLists(regs) : undefined;
      let logged = 0;
      let recipients = 0;
      const seen = new Set<string>();
      for (const e of events) {
        const { rows } = await c.query<{ seq: string }>(
          `insert into event_log (event_id, type, subject, event_time, source, payload) values ($1, $2, $3, $4, $5, $6)
           on conflict (event_id) do nothing returning seq`,
          [e.eventId, e.type, e.subject, e.time, e.source, JSON.stringify(e.payload)],
        );
        if (!rows[0]) continue;
        logged++;
        seen.add(e.type);
        const to = regs.filter((r) => wants(r, e, lists));
        for (const r of to) {
          await c.query('insert into event_recipients (seq, service, subject, delivery) values ($1, $2, $3, $4)', [rows[0].seq, r.name, e.subject, r.delivery]);
          recipients++;
        }
      }
      if (seen.size > 0)
        await c.query(
          `insert into event_type_status (type, available, last_seen) select t, true, now() from unnest($1::text[]) t
           on conflict (type) do update set last_seen = now()`,
          [[...seen]],
        );
      return { logged, recipients };
    });
  }

  /** Each event type's recorded status and when an event of it was last logged. */
  async typeStatus(): Promise<Map<string, { available: boolean | null; lastSeen: number | null }>> {
    const { rows } = await this.pool.query<{ type: string; available: boolean; last_seen: Date | null; announced: boolean }>(
      'select type, available, last_seen from event_type_status',
    );
    return new Map(rows.map((r) => [r.type, { available: r.available, lastSeen: r.last_seen ? r.last_seen.getTime() : null }]));
  }

  async setTypeAvailable(type: string, available: boolean): Promise<void> {
    await this.pool.query(
      `insert into event_type_status (type, available) values ($1, $2)
       on conflict (type) do update set available = excluded.available, changed_at = now()`,
      [type, available],
    );
  }

  /**
   * Pull: the service's events after `since` (or its stored cursor), oldest first. Asking from
   * `since` acknowledges everything up to it: those are marked notified and the stored cursor
   * moves there (never back). The events handed out count an attempt.
   */
  async pull(service: string, since: number | undefined, limit: number): Promise<{ since: number; events: LoggedEvent[]; more: boolean }> {
    return inTransaction(this.pool, async (c) => {
      const { rows: cur } = await c.query<{ position: string }>(
        `insert into event_cursors (service, position) values ($1, 0) on conflict (service) do update set service = excluded.service returning position`,
        [service],
      );
      const stored = Number(cur[0]!.position);
      const from = since ?? stored;
      if (from > stored) await this.acknowledge(c, service, from);
      const { rows } = await c.query<EventRow>(
        `select ${EVENT_COLUMNS} from event_recipients r join event_log e on e.seq = r.seq
         where r.service = $1 and r.seq > $2 order by r.seq limit $3`,
        [service, from, limit + 1],
      );
      const page = rows.slice(0, limit);
      if (page.length > 0)
        await c.query('update event_recipients set attempts = attempts + 1 where service = $1 and seq = any($2::bigint[])', [service, page.map((r) => r.seq)]);
      return { since: from, events: page.map(loggedEvent), more: rows.length > limit };
    });
  }

  private async acknowledge(c: pg.PoolClient, service: string, upTo: number): Promise<void> {
    await c.query('update event_cursors set position = greatest(position, $2), updated_at = now() where service = $1', [service, upTo]);
    await c.query('update event_recipients set notified = true, notified_at = now() where service = $1 and seq <= $2 and not notified', [service, upTo]);
  }

  async cursor(service: string): Promise<number> {
    const { rows } = await this.pool.query<{ position: string }>('select position from event_cursors where service = $1', [service]);
    return rows[0] ? Number(rows[0].position) : 0;
  }

  /** SSE: the next events after `after` for the service, oldest first. */
  async eventsAfter(service: string, after: number, limit: number): Promise<LoggedEvent[]> {
    const { rows } = await this.pool.query<EventRow>(
      `select ${EVENT_COLUMNS} from event_recipients r join event_log e on e.seq = r.seq where r.service = $1 and r.seq > $2 order by r.seq limit $3`,
      [service, after, limit],
    );
    return rows.map(loggedEvent);
  }

  /** SSE: events written to the stream are notified (the service's answer is the open stream itself); the cursor follows. */
  async markStreamed(service: string, upTo: number): Promise<void> {
    await inTransaction(this.pool, async (c) => {
      await c.query(`insert into event_cursors (service, position) values ($1, 0) on conflict (service) do nothing`, [service]);
      await c.query('update event_recipients set attempts = attempts + 1 where service = $1 and seq <= $2 and not notified', [service, upTo]);
      await this.acknowledge(c, service, upTo);
    });
  }

  /**
   * The webhook sender's lock: one instance sends at a time (two would both send a queue's head).
   * A session advisory lock on a client of its own, held until that client is released; undefined when another holds it.
   */
  async webhookLock(): Promise<pg.PoolClient | undefined> {
    const c = await this.pool.connect();
    try {
      const { rows } = await c.query<{ ok: boolean }>('select pg_try_advisory_lock(hashtext($1)) as ok', [`presence.event-webhooks.${this.schema}`]);
      if (rows[0]!.ok) {
        c.on('error', () => {}); // a lost lock connection shows up as the next check failing
        return c;
      }
      c.release();
      return undefined;
    } catch (err) {
      c.release(true);
      throw err;
    }
  }

  /** The head of each (webhook service, subscriber) queue: a later event for the subscriber waits for it. */
  async pendingWebhooks(limit: number): Promise<PendingDelivery[]> {
    const { rows } = await this.pool.query<EventRow & { service: string; url: string; secret: string; attempts: number; due: boolean }>(
      `select * from (
         select distinct on (r.service, r.subject) ${EVENT_COLUMNS}, r.service, s.webhook_url as url, s.webhook_secret as secret, r.attempts,
                r.next_attempt_at <= now() as due
         from event_recipients r
         join event_services s on s.name = r.service and s.delivery = 'webhook'
         join event_log e on e.seq = r.seq
         where not r.notified and r.delivery = 'webhook'
         order by r.service, r.subject, r.seq) heads
       order by seq limit $1`,
      [limit],
    );
    return rows.map((r) => ({ event: loggedEvent(r), service: r.service, url: r.url, secret: r.secret, attempts: r.attempts, due: r.due }));
  }

  async webhookAnswered(service: string, seq: number, ok: boolean, status: number | null, body: string | null, retryInMs: number): Promise<void> {
    await this.pool.query(
      `update event_recipients set attempts = attempts + 1, answer_status = $3, answer_body = $4,
         notified = $5, notified_at = case when $5 then now() else notified_at end,
         next_attempt_at = now() + ($6::double precision * interval '1 millisecond')
       where service = $1 and seq = $2`,
      [service, seq, status, body, ok, retryInMs],
    );
  }

  /** Recipients not yet notified, by delivery mode (a gauge). */
  async backlog(): Promise<Record<string, number>> {
    const { rows } = await this.pool.query<{ delivery: string; n: string }>(
      'select delivery, count(*) as n from event_recipients where not notified group by delivery',
    );
    return Object.fromEntries(rows.map((r) => [r.delivery, Number(r.n)]));
  }

  /** The event log, newest first, each event with its recipients' state. */
  async eventLog(q: {
    subscriber?: string;
    service?: string;
    type?: string;
    before?: number;
    limit: number;
  }): Promise<Array<LoggedEvent & { recipients: Recipient[] }>> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.subscriber) where.push(`e.subject = $${args.push(q.subscriber)}`);
    if (q.type) where.push(`e.type = $${args.push(q.type)}`);
    if (q.before) where.push(`e.seq < $${args.push(q.before)}`);
    if (q.service) where.push(`exists (select 1 from event_recipients x where x.seq = e.seq and x.service = $${args.push(q.service)})`);
    const { rows } = await this.pool.query<EventRow & { recipients: Array<Record<string, unknown>> | null }>(
      `select ${EVENT_COLUMNS},
         (select json_agg(json_build_object('service', r.service, 'delivery', r.delivery, 'notified', r.notified, 'notifiedAt', r.notified_at,
                 'attempts', r.attempts, 'status', r.answer_status, 'body', r.answer_body) order by r.service)
          from event_recipients r where r.seq = e.seq) as recipients
       from event_log e ${where.length ? `where ${where.join(' and ')}` : ''} order by e.seq desc limit $${args.push(q.limit)}`,
      args,
    );
    return rows.map((r) => ({
      ...loggedEvent(r),
      recipients: (r.recipients ?? []).map((x) => ({
        service: x.service as string,
        delivery: x.delivery as DeliveryMode,
        notified: x.notified as boolean,
        notifiedAt: (x.notifiedAt as string | null) ?? null,
        attempts: x.attempts as number,
        answer: x.status === null && x.body === null ? null : { status: (x.status as number | null) ?? null, body: (x.body as string | null) ?? null },
      })),
    }));
  }

  /** Retention: events logged longer ago than this go, with their recipients. */
  async deleteOlderThan(ms: number): Promise<number> {
    const { rowCount } = await this.pool.query(`delete from event_log where logged_at < now() - ($1::double precision * interval '1 millisecond')`, [ms]);
    return rowCount ?? 0;
  }
}
