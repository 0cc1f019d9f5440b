// One PostgreSQL transaction on a pooled client, for the stores that write
// several rows as one change: begin, the work, commit. A failure rolls back
// (a failing rollback is ignored: the work's error is the one to report) and
// the client always goes back to the pool.
import type pg from 'pg';

export async function inTransaction<T>(pool: pg.Pool, work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('begin');
    const out = await work(c);
    await c.query('commit');
    return out;
  } catch (err) {
    await c.query('rollback').catch(() => {});
    throw err;
  } finally {
    c.release();
  }
}
