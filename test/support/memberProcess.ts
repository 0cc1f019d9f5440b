// A `presence run …` member as a child process (so a test or bench can kill -9
// or SIGSTOP it), its output kept as lines and in a log file, with bounded waits;
// and a one-shot `presence …` command run to its end.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Settings } from '../../config/settings.ts';
import { eventually } from './wait.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface MemberProcess {
  readonly id: string;
  readonly child: ChildProcess;
  readonly log: string;
  /** Output lines with the time each arrived. */
  readonly lines: Array<{ at: number; text: string }>;
  exited: boolean;
  /** Resolves with the first line matching `re` (after `since`, ms epoch), or fails after timeoutMs. */
  waitFor(re: RegExp, timeoutMs: number, since?: number): Promise<{ at: number; text: string }>;
  signal(sig: NodeJS.Signals): void;
  /** Sends `sig` and waits (bounded) for the exit. */
  stop(sig?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
}

/** Starts `presence run <component> <args>` (or `presence <command> …`, e.g. `tap hep`) against the settings' topic prefix and partitions; resolves once it logs `ready`. */
export async function startMemberProcess(
  s: Settings,
  id: string,
  args: string[],
  ready: RegExp,
  env: Record<string, string> = {},
  command = 'run',
): Promise<MemberProcess> {
  const log = path.join(os.tmpdir(), `${s.topics.prefix}${id}-${Date.now()}.log`);
  const out = createWriteStream(log);
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin/presence.mjs'), command, ...args], {
    cwd: repoRoot,
    env: { ...process.env, PRESENCE_TOPIC_PREFIX: s.topics.prefix, PRESENCE_PARTITIONS: String(s.topics.partitions), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const m: MemberProcess = {
    id,
    child,
    log,
    lines: [],
    exited: false,
    waitFor: (re, timeoutMs, since = 0) =>
      eventually(
        () => `${id}: a line matching ${re} (log ${log}; last: ${m.lines.at(-1)?.text ?? '(none)'})`,
        () => {
          const hit = m.lines.find((l) => l.at >= since && re.test(l.text));
          if (!hit && m.exited) throw new Error(`${id} exited`);
          return hit;
        },
        { timeoutMs, intervalMs: 50 },
      ),
    signal: (sig) => void child.kill(sig),
    stop: async (sig = 'SIGTERM', timeoutMs = 30_000) => {
      if (m.exited) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill(sig);
      const timer = new Promise<void>((_, reject) =>
        setTimeout(() => reject(new Error(`${id} did not exit within ${timeoutMs} ms of ${sig}`)), timeoutMs).unref(),
      );
      await Promise.race([exited, timer]).catch((e: unknown) => {
        child.kill('SIGKILL');
        throw e;
      });
    },
  };
  const onData = (b: Buffer) => {
    out.write(b);
    const at = Date.now();
    for (const text of b.toString('utf8').split('\n')) if (text.trim()) m.lines.push({ at, text });
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  child.on('exit', () => {
    m.exited = true;
    out.end();
  });
  await m.waitFor(ready, 60_000);
  return m;
}

/** Runs `presence <args>` to its end against the settings' topic prefix and partitions: its exit code and output. */
export function runPresence(
  s: Settings,
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 120_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      [path.join(repoRoot, 'bin/presence.mjs'), ...args],
      {
        cwd: repoRoot,
        env: { ...process.env, PRESENCE_TOPIC_PREFIX: s.topics.prefix, PRESENCE_PARTITIONS: String(s.topics.partitions), ...env },
        timeout: timeoutMs,
      },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}
