// The built artefact (issue 14.5): `npm run build` compiles to dist/, `npm pack`
// ships that without TypeScript, and the unpacked package runs the compiled
// code (no sources to fall back on) against the real broker and registry.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/captures.ts';
import { fixturePath, MAP_FIXTURE } from '../support/fixtures.ts';
import { cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';

const s = isolatedSettings('built');
const work = mkdtempSync(path.join(tmpdir(), 'presence-pack-'));
afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await cleanupIsolated(s);
});

const run = (cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) =>
  execFileSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 });

describe('the built artefact', () => {
  it('builds, packs without TypeScript, and runs the compiled code from the unpacked tarball', () => {
    run(process.execPath, ['tools/build/build.mjs'], repoRoot);

    const [pack] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], repoRoot)) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    const files = pack!.files.map((f) => f.path);
    expect(files.filter((f) => f.endsWith('.ts'))).toEqual([]);
    expect(files).toEqual(
      expect.arrayContaining([
        'bin/presence.mjs',
        'dist/cli/main.js',
        'dist/streams/event-manager/eventManager.js',
        'dist/subscriber/directory/schema.sql',
        'dist/schemas/avro/Presence.avsc',
        'schemas/avro/Presence.avsc',
        'infra/maven/pom.xml',
      ]),
    );

    run('tar', ['-xzf', path.join(work, pack!.filename), '-C', work], repoRoot);
    const pkg = path.join(work, 'package');
    // The runtime dependencies as `npm install <tarball>` would bring them (no registry needed here).
    symlinkSync(path.join(repoRoot, 'node_modules'), path.join(pkg, 'node_modules'));
    const presence = (args: string[]) => run(process.execPath, [path.join(pkg, 'bin/presence.mjs'), ...args], work, { PRESENCE_TOPIC_PREFIX: s.topics.prefix });

    // Decoders, code tables and the CLI, compiled.
    const decoded = presence(['decode', '--json', fixturePath(MAP_FIXTURE)])
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { protocol: string });
    expect(decoded.length).toBeGreaterThan(10);
    expect(decoded.some((m) => m.protocol === 'map')).toBe(true);

    // Kafka, the registry and the Avro schemas read beside the compiled code.
    expect(presence(['topics', 'apply'])).toMatch(/created/);
    expect(presence(['topics', 'list'])).toContain(`${s.topics.prefix}signaling-events`);
  }, 300_000);
});
