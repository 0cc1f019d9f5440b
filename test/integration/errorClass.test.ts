// The outage / bad-input classifier (kafka/errorClass.ts) on the errors the
// real clients raise: node-postgres against the real PostgreSQL and a port
// where nothing listens, the registry client against the real registry and a
// dead port. A wrong answer either dead-letters good records during an outage
// or retries a bad record forever.
import net from 'node:net';
import pg from 'pg';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { classifyError, OutageError } from '../../kafka/errorClass.ts';
import { testDatabaseUrl } from '../support/database.ts';

/** A loopback port nothing listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

describe('classifyError on real client errors', () => {
  it('a NUL in a text parameter is bad input (SQLSTATE 22021); a refused connection and a missing table are outages', async () => {
    const pool = new pg.Pool({ connectionString: testDatabaseUrl, max: 1 });
    try {
      const nul = await failure(pool.query('select $1::text as t', ['sip:a\u0000b@example.com']));
      expect(classifyError(nul)).toEqual({ kind: 'bad-input', layer: 'database', reason: 'sqlstate-22021' });
      const missing = await failure(pool.query('select * from no_such_table_for_error_class'));
      expect(classifyError(missing)).toMatchObject({ kind: 'outage', reason: 'sqlstate-42P01' });
    } finally {
      await pool.end();
    }
    const down = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:${await deadPort()}/test`, max: 1, connectionTimeoutMillis: 2000 });
    try {
      const refused = await failure(down.query('select 1'));
      expect(classifyError(refused).kind).toBe('outage');
      // Wrapped by a caller that keeps the cause.
      expect(classifyError(new Error('watcher rules failed', { cause: refused })).kind).toBe('outage');
    } finally {
      await down.end();
    }
  });

  it('an unreachable registry is an outage; an id the registry does not know is bad input', async () => {
    const wire = (id: number) =>
      Buffer.concat([Buffer.from([0]), Buffer.from([id >>> 24, (id >>> 16) & 255, (id >>> 8) & 255, id & 255]), Buffer.from([2, 0x61])]);
    const gone = new SchemaRegistry({ host: `http://127.0.0.1:${await deadPort()}`, retry: { retries: 0 } });
    expect(classifyError(await failure(gone.decode(wire(7)))).kind).toBe('outage');
    const real = new SchemaRegistry({ host: loadSettings().registry.url, retry: { retries: 0 } });
    expect(classifyError(await failure(real.decode(wire(0x7ffffff0))))).toEqual({ kind: 'bad-input', layer: 'registry', reason: 'http-404' });
  });

  it('marked outages and plain errors', () => {
    expect(classifyError(new OutageError('rules unavailable')).kind).toBe('outage');
    expect(classifyError(new Error('x', { cause: new OutageError('y') })).kind).toBe('outage');
    expect(classifyError(new Error('invalid union index'))).toEqual({ kind: 'bad-input', layer: 'record', reason: 'malformed' });
  });
});
