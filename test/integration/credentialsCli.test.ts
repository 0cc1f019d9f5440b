// `presence credentials` as an operator runs it (issue 13 item 1: "a CLI to
// set them"): the password from stdin or a file, never argv, stored only as HA1
// hashes; delegation given and taken back; removal; bad input refused by name.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SipCredentials } from '../../subscriber/credentials/sipCredentials.ts';
import { repoRoot } from '../support/captures.ts';
import { testDatabaseUrl } from '../support/database.ts';

const run = `${Date.now().toString(36)}${process.pid}`;
const USER = `cli-alice-${run}`;
const REALM = 'cli.test';
const ALICE = `sip:alice-${run}@example.com`;
const BOB = `sip:bob-${run}@example.com`;
// No lookup cache: each check reads what the command wrote.
const store = new SipCredentials(testDatabaseUrl, 'presence', 0);
const dir = mkdtempSync(path.join(tmpdir(), 'it-credentials-'));

function presence(args: string[], input?: string): { code: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin/presence.mjs'), 'credentials', ...args], {
    env: { ...process.env, PRESENCE_DATABASE_URL: testDatabaseUrl },
    input: input ?? '',
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stderr: r.stderr };
}

afterAll(async () => {
  await store.remove(USER, REALM).catch(() => false);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('presence credentials', () => {
  it('sets a password from stdin as HA1 hashes only, replaces it from a file, and removes it', async () => {
    expect(presence(['set', USER, '--identity', ALICE, '--realm', REALM], 'wonderland\n')).toMatchObject({ code: 0 });
    const stored = await store.lookup(USER, REALM);
    expect(stored).toMatchObject({ identity: ALICE, ha1: { MD5: createHash('md5').update(`${USER}:${REALM}:wonderland`).digest('hex') } });
    expect(JSON.stringify(stored)).not.toContain('wonderland');

    const file = path.join(dir, 'password');
    writeFileSync(file, 'looking-glass\n');
    expect(presence(['set', USER, '--identity', ALICE, '--realm', REALM, '--password-file', file])).toMatchObject({ code: 0 });
    expect((await store.lookup(USER, REALM))?.ha1['SHA-256']).toBe(createHash('sha256').update(`${USER}:${REALM}:looking-glass`).digest('hex'));

    expect(presence(['remove', USER, '--realm', REALM])).toMatchObject({ code: 0 });
    expect(await store.lookup(USER, REALM)).toBeUndefined();
    const again = presence(['remove', USER, '--realm', REALM]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/no credentials of cli-alice/);
  }, 120_000);

  it('gives and takes back delegation by subscriber key; refuses what names no subscriber', async () => {
    expect(presence(['delegate', BOB, ALICE])).toMatchObject({ code: 0 });
    expect(await store.mayPublishFor(`aor:${BOB}`, `aor:${ALICE}`)).toBe(true);
    expect(presence(['undelegate', BOB, ALICE])).toMatchObject({ code: 0 });
    expect(await store.mayPublishFor(`aor:${BOB}`, `aor:${ALICE}`)).toBe(false);
    const twice = presence(['undelegate', BOB, ALICE]);
    expect(twice.code).not.toBe(0);
    expect(twice.stderr).toMatch(/could not PUBLISH for/);
    const bad = presence(['set', USER, '--identity', 'alice', '--realm', REALM], 'x\n');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--identity alice is not a sip:, sips: or tel: URI/);
  }, 120_000);
});
