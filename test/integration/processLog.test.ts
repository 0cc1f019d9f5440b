// A long-running command's log as an operator's log shipper sees it (stderr
// not a terminal): JSON lines with level and context, librdkafka's own lines
// routed in, the level and format chosen by flag.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/captures.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';
import { eventually } from '../support/wait.ts';

// Topics and schemas of our own (the front end checks the registry first), then a broker that is not there.
const s = isolatedSettings('process-log', 1);
beforeAll(() => applyIsolated(s), 60_000);
afterAll(() => cleanupIsolated(s));

/** Runs the CLI until `enough` lines arrived (or 20 s), then kills it. */
async function stderrLines(args: string[], enough: (lines: string[]) => boolean): Promise<string[]> {
  // Port 9 on loopback: nothing listens, so every connection attempt fails at once.
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin/presence.mjs'), ...args], {
    env: { ...process.env, PRESENCE_TOPIC_PREFIX: s.topics.prefix, PRESENCE_KAFKA_BROKERS: '127.0.0.1:9', PRESENCE_LOG_LEVEL: '', PRESENCE_LOG_FORMAT: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines: string[] = [];
  let buf = '';
  child.stderr.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts.filter(Boolean));
  });
  try {
    await eventually('enough log lines', () => enough(lines), { timeoutMs: 20_000 });
  } finally {
    child.kill('SIGKILL');
  }
  return lines;
}

describe('process log', () => {
  it('is one JSON object per line with level, component, host and pid, and carries librdkafka’s own lines', async () => {
    const lines = await stderrLines(['run', 'sip-front', '--port', '0'], (l) => l.some((x) => x.includes('librdkafka')));
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const r of records)
      expect(r).toMatchObject({
        level: expect.any(String),
        component: 'sip-front',
        pid: expect.any(Number),
        host: expect.any(String),
        msg: expect.any(String),
      });
    const kafka = records.find((r) => r.source === 'librdkafka');
    expect(kafka).toMatchObject({ level: 'error', facility: expect.any(String), msg: expect.stringContaining('127.0.0.1:9') });
  }, 30_000);

  it('keeps only what is at or above --log-level, in the --log-format asked for', async () => {
    const lines = await stderrLines(['--log-level', 'error', '--log-format', 'text', 'run', 'sip-front', '--port', '0'], (l) => l.length >= 2);
    for (const l of lines) expect(l).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z ERROR /);
  }, 30_000);

  it('refuses an unknown level before starting anything', async () => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin/presence.mjs'), '--log-level', 'loud', 'run', 'sip-front'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).not.toBe(0);
    expect(err).toMatch(/--log-level must be one of debug, info, warn, error/);
  }, 30_000);
});
