// `presence events register | list | remove` (issue 17): the operator's tool, straight in
// the event service's tables — what it registers, lists without the webhook secret, and
// refuses naming the field, as the HTTP API does.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/captures.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';

const exec = promisify(execFile);
const schema = `it_events_cli_${process.pid}`;

async function presence(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [path.join(repoRoot, 'bin/presence.mjs'), 'events', ...args, '--schema', schema], {
      cwd: repoRoot,
      env: { ...process.env, PRESENCE_DATABASE_URL: testDatabaseUrl },
      timeout: 60_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

afterAll(async () => {
  await dropSchema(schema);
});

describe('presence events', () => {
  it('registers, lists without the secret, refuses a bad registration naming the field, and removes', async () => {
    const hook = await presence(
      'register',
      'crm',
      '--subscribe',
      'call.missed,sms.received',
      '--subscribers',
      '+9997000000191',
      '--delivery',
      'webhook',
      '--url',
      'https://crm.example/hook',
      '--secret',
      'crm-secret-0123456789',
    );
    expect(hook.code, hook.stderr).toBe(0);
    expect(JSON.parse(hook.stdout)).toMatchObject({
      registered: {
        name: 'crm',
        subscriptions: [{ types: ['call.missed', 'sms.received'], subscribers: ['msisdn:+9997000000191'] }],
        delivery: { mode: 'webhook' },
      },
    });
    expect((await presence('register', 'voicemail', '--subscribe', 'message.waiting')).code).toBe(0);
    const buddy = await presence('register', 'buddy', '--subscribe', 'presence.changed', '--contact-list', '+9997000000192:watched', '--delivery', 'sse');
    expect(buddy.code, buddy.stderr).toBe(0);
    expect(JSON.parse(buddy.stdout)).toMatchObject({ registered: { subscriptions: [{ contactList: { owner: 'msisdn:+9997000000192', list: 'watched' } }] } });
    const badList = await presence('register', 'y', '--subscribe', '*', '--contact-list', '+9997000000192:friends');
    expect(badList.stderr).toMatch(/subscriptions\[0\]\.contactList\.list/);

    const bad = await presence('register', 'x', '--subscribe', 'call.lost');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/subscriptions\[0\]\.types\[0\]/);

    const listed = await presence('list');
    expect(listed.code, listed.stderr).toBe(0);
    const names = listed.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { name: string }).name);
    expect(names).toEqual(['buddy', 'crm', 'voicemail']);
    expect(listed.stdout).not.toContain('crm-secret-0123456789');

    expect(JSON.parse((await presence('remove', 'crm')).stdout)).toEqual({ removed: 'crm' });
    const again = await presence('remove', 'crm');
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/service crm is not registered/);
  }, 120_000);
});
