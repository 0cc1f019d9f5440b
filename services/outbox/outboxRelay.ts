// The transactional-outbox relay (group service, availability service): publishes
// an outbox's records to Kafka in commit order and deletes them only after Kafka acknowledged them.
//
// - Nothing is lost: a change is in the outbox iff it is committed, and a row
//   leaves the outbox only after its record is acknowledged (acks=all,
//   idempotent producer). A crash before publishing leaves the rows for the
//   next run; a crash after publishing but before the delete publishes them
//   again — at-least-once, and consumers drop repeats by version.
// - Order: one relay at a time (a transaction-scoped advisory lock per
//   schema), rows in seq order, and the idempotent producer keeps that order
//   per partition even across retries. Several service instances may run:
//   the ones that do not get the lock skip the round.
//   The same relay carries the availability service's outbox (another table, its
//   own lock): `OutboxTable` names the table and its key column.
import type pg from 'pg';
import type { Group } from '../../schemas/generated/records.ts';

interface OutboxRow<R> {
  seq: number;
  groupId: string;
  version: number;
  /** null: the group was deleted (tombstone). */
  record: R | null;
}

/** Sends one record keyed by group and resolves on Kafka's acknowledgement. */
type GroupPublisher<R> = (groupId: string, record: R | null) => Promise<void>;

/** Which outbox: its table, the column holding the record key, and the advisory lock's name. */
export interface OutboxTable {
  table: string;
  keyColumn: string;
  lock: string;
}

/** The group service's outbox (schema.sql). */
export const GROUP_OUTBOX: OutboxTable = { table: 'group_outbox', keyColumn: 'group_id', lock: 'presence.group-outbox' };

export interface RelayOptions<R = Group> {
  batchSize?: number;
  /** How often to look for rows other processes committed (this process's own changes nudge the relay). */
  pollMs?: number;
  /** Upper bound of the back-off after a failed round (Kafka down, database down). */
  maxBackoffMs?: number;
  log?: (line: string) => void;
  /** Fault injection for tests: runs after the rows are read, before they are published (a throw = a crash there). */
  beforePublish?: (rows: OutboxRow<R>[]) => void | Promise<void>;
  /** Fault injection for tests: runs after Kafka acknowledged, before the rows are deleted. */
  afterPublish?: (rows: OutboxRow<R>[]) => void | Promise<void>;
}

export class OutboxRelay<R = Group> {
  readonly stats = { published: 0, rounds: 0, failures: 0, skippedLocked: 0, consecutiveFailures: 0, lastError: undefined as string | undefined };
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private nudged = false;
  private readonly batchSize: number;
  private readonly pollMs: number;
  private readonly maxBackoffMs: number;

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
    private readonly publish: GroupPublisher<R>,
    private readonly o: RelayOptions<R> = {},
    private readonly outbox: OutboxTable = GROUP_OUTBOX,
  ) {
    if (!/^[a-z_][a-z0-9_]*$/.test(outbox.table) || !/^[a-z_][a-z0-9_]*$/.test(outbox.keyColumn))
      throw new Error(`outbox ${outbox.table}.${outbox.keyColumn}: not plain identifiers`);
    this.batchSize = o.batchSize ?? 200;
    this.pollMs = o.pollMs ?? 500;
    this.maxBackoffMs = o.maxBackoffMs ?? 5000;
  }

  /**
   * One round: under the schema's advisory lock, publishes up to a batch of
   * rows in seq order, then deletes them. Returns how many it published
   * (0 also when another relay holds the lock).
   */
  async drainOnce(): Promise<number> {
    const c = await this.pool.connect();
    // The database going away while this client is checked out emits 'error' on it (the pool listens only to idle
    // clients): unheard, that would end the process. The round's query fails too, and the round is retried.
    let broken: Error | undefined;
    const onError = (err: Error) => (broken = err);
    c.on('error', onError);
    try {
      await c.query('begin');
      const { rows: lock } = await c.query<{ ok: boolean }>('select pg_try_advisory_xact_lock(hashtext($1)) as ok', [`${this.outbox.lock}.${this.schema}`]);
      if (!lock[0]!.ok) {
        this.stats.skippedLocked++;
        await c.query('rollback');
        return 0;
      }
      const { rows } = await c.query<{ seq: string; group_id: string; version: string; record: R | null }>(
        `select seq, ${this.outbox.keyColumn} as group_id, version, record from ${this.outbox.table} order by seq limit $1`,
        [this.batchSize],
      );
      if (rows.length === 0) {
        await c.query('commit');
        return 0;
      }
      const batch: OutboxRow<R>[] = rows.map((r) => ({ seq: Number(r.seq), groupId: r.group_id, version: Number(r.version), record: r.record }));
      await this.o.beforePublish?.(batch);
      // All sent at once: the idempotent producer keeps them in order per partition.
      await Promise.all(batch.map((r) => this.publish(r.groupId, r.record)));
      await this.o.afterPublish?.(batch);
      await c.query(`delete from ${this.outbox.table} where seq = any($1::bigint[])`, [batch.map((r) => r.seq)]);
      await c.query('commit');
      this.stats.published += batch.length;
      return batch.length;
    } catch (err) {
      await c.query('rollback').catch(() => {});
      throw err;
    } finally {
      c.off('error', onError);
      // A broken connection is closed, not handed out again.
      c.release(broken);
    }
  }

  /** Tells the relay there is something new (saves waiting for the next poll). */
  nudge(): void {
    this.nudged = true;
    this.wake?.();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    let backoff = 0;
    while (this.running) {
      let n = 0;
      this.nudged = false;
      try {
        this.stats.rounds++;
        n = await this.drainOnce();
        backoff = 0;
        this.stats.consecutiveFailures = 0;
      } catch (err) {
        this.stats.failures++;
        this.stats.consecutiveFailures++;
        this.stats.lastError = (err as Error).message;
        backoff = Math.min(this.maxBackoffMs, backoff ? backoff * 2 : 200);
        this.o.log?.(`${this.outbox.table} relay: ${(err as Error).message}; retrying in ${backoff} ms`);
      }
      if (!this.running) break;
      if (n === this.batchSize && backoff === 0) continue; // more waiting
      if (this.nudged && backoff === 0) continue;
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, backoff || this.pollMs);
        function done() {
          clearTimeout(t);
          resolve();
        }
        // A nudge cuts the poll short, but not a back-off.
        this.wake = backoff ? undefined : done;
      });
      this.wake = undefined;
    }
  }

  /** Stops after the current round (whose rows are either all acknowledged and deleted, or left for the next run). */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }
}
