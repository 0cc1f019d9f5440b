// Background processes of the local stack: started detached with output to a
// log file, tracked by pid files, so `presence stack` works across CLI runs.
import { maskedPasswords } from '../../config/secrets.ts';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ManagedProcess {
  name: string;
  pidFile: string;
  logFile: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid of a running managed process, or undefined (a stale pid file is removed). */
export function runningPid(p: ManagedProcess): number | undefined {
  if (!existsSync(p.pidFile)) return undefined;
  const pid = Number(readFileSync(p.pidFile, 'utf8').trim());
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) return pid;
  rmSync(p.pidFile, { force: true });
  return undefined;
}

export function startDetached(p: ManagedProcess, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  mkdirSync(path.dirname(p.logFile), { recursive: true });
  mkdirSync(path.dirname(p.pidFile), { recursive: true });
  const out = openSync(p.logFile, 'a');
  writeFileSync(out, `\n---- ${new Date().toISOString()} starting ${p.name}: ${maskedPasswords(`${command} ${args.join(' ')}`)}\n`);
  const child = spawn(command, args, { detached: true, stdio: ['ignore', out, out], env });
  closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${p.name} (${command}); see ${p.logFile}`);
  child.unref();
  writeFileSync(p.pidFile, String(child.pid));
  return child.pid;
}

/** SIGTERM, wait for a clean exit, SIGKILL after `graceMs`. Returns how it ended. */
export async function stopProcess(p: ManagedProcess, graceMs = 30_000): Promise<'not running' | 'stopped' | 'killed'> {
  const pid = runningPid(p);
  if (pid === undefined) return 'not running';
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) {
      rmSync(p.pidFile, { force: true });
      return 'stopped';
    }
    await sleep(200);
  }
  process.kill(pid, 'SIGKILL');
  while (isAlive(pid)) await sleep(100);
  rmSync(p.pidFile, { force: true });
  return 'killed';
}

/** Last lines of a log, for error messages that say why a part failed. */
function tailLog(file: string, lines = 15): string {
  if (!existsSync(file)) return '(no log written)';
  // Java stack frames bury the cause: keep the message lines.
  const text = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => !/^\s+at |^\s+\.\.\. \d+ more/.test(l));
  return text.slice(-lines - 1).join('\n');
}

/** Resident memory of a process in MiB (Linux /proc), or undefined. */
export function residentMb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Polls `probe` until it resolves true, the process dies, or the timeout passes.
 * Throws with the log tail so the user sees why.
 */
export async function waitUntilReady(p: ManagedProcess, pid: number, probe: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await probe().catch(() => false)) return Date.now() - started;
    if (!isAlive(pid)) {
      rmSync(p.pidFile, { force: true });
      throw new Error(`${p.name} exited during start-up. Log: ${p.logFile}\n${tailLog(p.logFile)}`);
    }
    if (Date.now() - started > timeoutMs) {
      throw new Error(`${p.name} did not answer within ${timeoutMs / 1000}s. Log: ${p.logFile}\n${tailLog(p.logFile)}`);
    }
    await sleep(250);
  }
}
