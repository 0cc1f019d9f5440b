// Integration tests use the machine's PostgreSQL database `test`, each in a
// schema of its own that it drops afterwards.
import pg from 'pg';

export const testDatabaseUrl = process.env.PRESENCE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A schema name unique to this test process. */
export function testSchema(name: string): string {
  return `it_${name}_${process.pid}`;
}

/** One statement on the test database's server, outside any transaction (create/drop database need that). */
export async function onTestDatabase(sql: string): Promise<void> {
  const c = new pg.Client(testDatabaseUrl);
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

export async function dropSchema(schema: string): Promise<void> {
  await onTestDatabase(`drop schema if exists ${schema} cascade`);
}
