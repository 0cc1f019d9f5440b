// PostgreSQL is the machine's own server (127.0.0.1:5432, trust auth); the
// stack only makes sure the project's databases exist.
import pg from 'pg';
import { maskedUrl } from '../../config/secrets.ts';

export async function ensureDatabase(adminUrl: string, name: string): Promise<'created' | 'exists'> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name ${name} is not a plain identifier`);
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`PostgreSQL does not answer at ${maskedUrl(adminUrl)}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (rowCount) return 'exists';
    await client.query(`create database ${name}`);
    return 'created';
  } catch (err) {
    // Two starters racing: the loser sees a duplicate, which is fine.
    if ((err as { code?: string }).code === '42P04') return 'exists';
    throw err;
  } finally {
    await client.end();
  }
}

/**
 * The same server as `adminUrl`, database `db`, as JDBC properties. Its query parameters
 * (sslmode, sslrootcert, …: pgjdbc reads the libpq names) go along, so `sslmode=require` in
 * PRESENCE_DATABASE_URL reaches the registry and the Connect sinks too.
 */
export function jdbcOf(adminUrl: string, db: string): { url: string; user: string; password: string } {
  const u = new URL(adminUrl);
  const params = new URLSearchParams([...u.searchParams].filter(([k]) => k !== 'user' && k !== 'password'));
  const query = params.size ? `?${params.toString()}` : '';
  return {
    url: `jdbc:postgresql://${u.hostname}:${u.port || 5432}/${db}${query}`,
    user: decodeURIComponent(u.username || 'postgres'),
    password: decodeURIComponent(u.password),
  };
}

export async function databaseAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}
