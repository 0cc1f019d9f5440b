// Watcher authorization rules on the real PostgreSQL (own schema, dropped after).
import pg from 'pg';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WatcherRules } from '../../streams/event-manager/authorization/watcherRules.ts';

const url = testDatabaseUrl;
const schema = `it_rules_${process.pid}`;
const rules = new WatcherRules(url, 'confirm', schema, 0);
const P = 'msisdn:+351910000001';

beforeAll(() => rules.migrate());
afterAll(async () => {
  await rules.close();
  await dropSchema(schema);
});

describe('watcher rules', () => {
  it('applies exact rules over domain rules over the default, matching URIs as SIP compares them', async () => {
    await rules.set(P, '*@Example.com', 'block');
    await rules.set(P, 'sip:bob@example.com', 'allow');
    await rules.set(P, 'sip:carol@partner.net', 'polite-block');
    expect(await rules.decide(P, 'sip:bob@EXAMPLE.com;transport=tcp')).toBe('allow');
    expect(await rules.decide(P, 'sip:eve@example.com')).toBe('block');
    expect(await rules.decide(P, '<sip:carol@partner.net>')).toBe('polite-block');
    expect(await rules.decide(P, 'sip:dave@elsewhere.org')).toBe('confirm');
    expect(await rules.decide('msisdn:+351910000002', 'sip:bob@example.com')).toBe('confirm');
    await rules.set(P, 'sip:bob@example.com', 'block');
    expect(await rules.decide(P, 'sip:bob@example.com')).toBe('block');
  });
});

describe('watcher rules: allow-presence', () => {
  const old = `it_rules_old_${process.pid}`;
  const upgraded = new WatcherRules(url, 'allow', old, 0);
  afterAll(async () => {
    await upgraded.close();
    await dropSchema(old);
  });

  it('a table made before allow-presence existed takes it after migrate, by concurrent starts and again on a restart', async () => {
    const c = new pg.Client(url);
    await c.connect();
    try {
      await c.query(`create schema ${old}`);
      await c.query(`create table ${old}.watcher_rules (presentity text not null, watcher text not null,
        decision text not null check (decision in ('allow', 'block', 'polite-block', 'confirm')),
        updated_at timestamptz not null default now(), primary key (presentity, watcher))`);
    } finally {
      await c.end();
    }
    await expect(upgraded.set(P, 'sip:bob@example.com', 'allow-presence')).rejects.toThrow(/check constraint/);
    // Event managers starting together: each migrates; one widens, none fails.
    const others = [new WatcherRules(url, 'allow', old, 0), new WatcherRules(url, 'allow', old, 0)];
    try {
      await Promise.all([upgraded.migrate(), ...others.map((o) => o.migrate())]);
    } finally {
      await Promise.all(others.map((o) => o.close()));
    }
    await upgraded.migrate(); // a restart: nothing left to widen
    await upgraded.set(P, 'sip:bob@example.com', 'allow-presence');
    expect(await upgraded.decide(P, 'sip:bob@example.com')).toBe('allow-presence');
    await expect(upgraded.set(P, 'sip:eve@example.com', 'nonsense' as never)).rejects.toThrow(/check constraint/);
  });
});

describe('watcher rules: allow-location', () => {
  const older = `it_rules_noloc_${process.pid}`;
  const rulesOf = new WatcherRules(url, 'allow', older, 0);
  afterAll(async () => {
    await rulesOf.close();
    await dropSchema(older);
  });

  it('a table made before allow-location existed takes it after migrate; an ordinary allow stays allow', async () => {
    const c = new pg.Client(url);
    await c.connect();
    try {
      await c.query(`create schema ${older}`);
      await c.query(`create table ${older}.watcher_rules (presentity text not null, watcher text not null,
        decision text not null check (decision in ('allow', 'allow-presence', 'block', 'polite-block', 'confirm')),
        updated_at timestamptz not null default now(), primary key (presentity, watcher))`);
    } finally {
      await c.end();
    }
    await expect(rulesOf.set(P, 'sip:family@example.com', 'allow-location')).rejects.toThrow(/check constraint/);
    await rulesOf.migrate();
    await rulesOf.migrate(); // a restart: nothing left to widen
    await rulesOf.set(P, 'sip:family@example.com', 'allow-location');
    await rulesOf.set(P, 'sip:friend@example.com', 'allow');
    expect(await rulesOf.decide(P, 'sip:family@example.com')).toBe('allow-location');
    expect(await rulesOf.decide(P, 'sip:friend@example.com')).toBe('allow');
  });
});
