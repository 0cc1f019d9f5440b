// `presence stack up --kafka-security sasl-ssl` as a user runs it (issue 13):
// the embedded broker's client port is SASL_SSL with a SCRAM user and a local
// CA, and every later command on the machine reaches it with no security
// settings of its own; a plaintext client is refused; switching an existing
// storage to another listener is refused with what to do. A private home and
// ports, the shared registry and database: only the broker is started here.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { repoRoot } from '../support/captures.ts';

const run = promisify(execFile);
const base = loadSettings();
const home = mkdtempSync(path.join(os.tmpdir(), 'presence-stack-sasl-'));
symlinkSync(path.join(base.home, 'lib'), path.join(home, 'lib'));
const port = 19_610;
// Only what makes the stack private; no PRESENCE_KAFKA_SECURITY_* at all.
const env: NodeJS.ProcessEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PRESENCE_KAFKA_'))),
  PRESENCE_HOME: home,
  PRESENCE_KAFKA_PORT: String(port),
  PRESENCE_KAFKA_CONTROLLER_PORT: String(port + 1),
  PRESENCE_KAFKA_HEAP_MB: '384',
  PRESENCE_REGISTRY_URL: base.registry.url,
  PRESENCE_TOPIC_PREFIX: `it-stack-sasl-${Date.now().toString(36)}.`,
};
const presence = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, [path.join(repoRoot, 'bin/presence.mjs'), ...args], { env: { ...env, ...extra }, encoding: 'utf8', timeout: 120_000 });

afterAll(async () => {
  await presence(['stack', 'down']).catch(() => {});
  rmSync(home, { recursive: true, force: true });
});

describe('stack up --kafka-security sasl-ssl', () => {
  it('serves SASL_SSL only, and every later command uses it without settings', async () => {
    const up = await presence(['stack', 'up', '--kafka-security', 'sasl-ssl']);
    expect(up.stderr).toMatch(/kafka: started .* \(SASL_SSL, SCRAM-SHA-512 user presence; clients read .*client-security\.json\)/);
    // The password is the user's secret: not readable by others.
    expect(statSync(path.join(home, 'kafka', 'tls', 'presence.password')).mode & 0o077).toBe(0);

    const status = await presence(['stack', 'status']);
    expect(status.stdout).toMatch(/kafka security\s+SASL_SSL/);
    expect(status.stdout).toMatch(/kafka\s+up/);

    // A plain command: topics created through the authenticated, encrypted listener.
    const apply = await presence(['topics', 'apply']);
    expect(apply.stdout + apply.stderr).toMatch(/signaling-events/);

    // A client that does not authenticate is refused, clearly and soon.
    const plain = await presence(['topics', 'apply'], { PRESENCE_KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT' }).then(
      () => 'accepted',
      (e: { stderr?: string }) => e.stderr ?? '',
    );
    expect(plain).not.toBe('accepted');

    // Idempotent, and remembered (restarts: stackKafkaSecurity.test.ts): a second `stack up` without the flag keeps SASL_SSL.
    const again = await presence(['stack', 'up']);
    expect(again.stderr).toMatch(/kafka: already running .*\(SASL_SSL/);

    // Another listener on this storage is refused with what to do.
    const refused = await presence(['stack', 'up', '--kafka-security', 'plaintext']).then(
      () => 'accepted',
      (e: { stderr?: string }) => e.stderr ?? '',
    );
    expect(refused).toMatch(/was formatted for sasl-ssl; to switch to plaintext, stop the stack .* and remove that directory/);
  }, 240_000);
});
