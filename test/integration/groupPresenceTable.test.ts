// The group_presence table on the real database: a connection the server drops
// while it sits idle in the pool (a database restart, an administrator's
// pg_terminate_backend) must not take the process down; the next read
// reconnects.
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { GroupPresenceTable } from '../../connectors/sinks/group-presence/groupPresenceTable.ts';
import { dropSchema, testDatabaseUrl, testSchema } from '../support/database.ts';
import { sleep } from '../support/wait.ts';

const schema = testSchema('gp_table');
const table = new GroupPresenceTable(testDatabaseUrl, schema);

afterAll(async () => {
  await table.close();
  await dropSchema(schema);
});

describe('group presence table', () => {
  it('survives an idle pooled connection being terminated by the server', async () => {
    await table.migrate();
    const uncaught: Error[] = [];
    const onUncaught = (e: Error) => uncaught.push(e);
    process.prependListener('uncaughtException', onUncaught);
    try {
      const pool = (table as unknown as { pool: pg.Pool }).pool;
      const { rows } = await pool.query<{ pid: number }>('select pg_backend_pid() as pid');
      const admin = new pg.Client(testDatabaseUrl);
      await admin.connect();
      await admin.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
      await admin.end();
      await sleep(500);
      expect(uncaught.map((e) => e.message)).toEqual([]);
      expect(await table.count()).toBe(0);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
