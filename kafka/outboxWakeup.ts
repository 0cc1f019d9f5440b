// Wakes an outbox relay (services/outbox/outboxRelay.ts; here, below the writers —
// subscriber/, streams/ — that announce their commits) when another process commits a row: the writer sends a
// PostgreSQL notification in its transaction (delivered at commit), and the
// relay's process listens on one connection of its pool. Without it a row that
// no local request nudged for waits for the relay's poll (500 ms), a third or
// more of issue 16.6's one-second budget; with the listening connection lost,
// the poll still finds every row.
import pg from 'pg';

/** The channel an outbox's commits are announced on: per table and schema (two stacks on one database stay apart). */
export const outboxChannel = (table: string, schema: string): string => `${table}_${schema}`;

/** Inside the writer's transaction: the notification goes out when it commits, not before (nor ever, rolled back). */
export async function announceCommit(c: pg.ClientBase, table: string, schema: string, key: string): Promise<void> {
  await c.query('select pg_notify($1, $2)', [outboxChannel(table, schema), key]);
}

/**
 * Listens on the outbox's channel and calls `nudge` per notification; resolves with the stop function.
 * On a connection of its own, made as the pool makes its own: one taken from the writers' small pool for
 * good would leave the relay and the API's changes one connection between them.
 */
export async function listenForCommits(pool: pg.Pool, table: string, schema: string, nudge: () => void): Promise<() => void> {
  const c = new pg.Client(pool.options);
  c.on('notification', () => nudge());
  // A lost connection only loses the wake-ups: the relay's poll goes on.
  c.on('error', () => {});
  try {
    await c.connect();
    await c.query(`listen "${outboxChannel(table, schema)}"`);
  } catch (err) {
    await c.end().catch(() => {});
    throw err;
  }
  return () => void c.end().catch(() => {});
}
