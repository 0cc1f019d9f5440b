// Runs SIPp (Debian package sip-tester) as a real SIP peer for interop tests:
// scenario XML goes to a temp dir, SIPp is bounded by its own -timeout and by
// a kill deadline, and its exit code (0 = every call succeeded) is returned
// with the tail of its error log for the failure message.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** True when a `sipp` binary answers on PATH. */
export function sippAvailable(): boolean {
  const r = spawnSync('sipp', ['-v'], { stdio: 'ignore', timeout: 5000 });
  return r.error === undefined;
}

interface SippRun {
  /** Scenario XML (written to a temp file). */
  readonly scenario: string;
  /** Arguments after -sf FILE, e.g. ['127.0.0.1:5070', '-t', 'u1']. */
  readonly args: readonly string[];
  /** Kill SIPp after this long (SIPp's own -timeout is set a little shorter). */
  readonly deadlineMs: number;
  /** Keep SIPp's message trace (-trace_msg): every message it received and sent, in SippResult.messages (parse with sippTrace.ts). */
  readonly traceMessages?: boolean;
  /** Files SIPp writes in its directory (e.g. `-trace_rtt`'s `_rtt.csv`, `-trace_stat`'s `.csv`) to hand back, by name ending. */
  readonly keepFiles?: readonly string[];
}

interface SippResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** SIPp's error log (-trace_err), for assertion messages. */
  readonly errors: string;
  /** SIPp's -trace_msg log (with traceMessages; empty if SIPp wrote none). */
  readonly messages?: Buffer;
  /** With keepFiles: the contents of each kept file, by the ending it matched. */
  readonly files?: Record<string, string>;
}

export interface SippProcess {
  readonly done: Promise<SippResult>;
  kill(): void;
}

export function startSipp(run: SippRun): SippProcess {
  const dir = mkdtempSync(join(tmpdir(), 'sipp-'));
  const file = join(dir, 'scenario.xml');
  const messageFile = join(dir, 'messages.log');
  writeFileSync(file, run.scenario);
  const timeoutS = Math.max(1, Math.floor(run.deadlineMs / 1000) - 1);
  const child = spawn(
    'sipp',
    [
      '-sf',
      file,
      ...run.args,
      '-nostdin',
      '-timeout',
      `${timeoutS}s`,
      '-timeout_error',
      '-trace_err',
      ...(run.traceMessages ? ['-trace_msg', '-message_file', messageFile] : []),
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), run.deadlineMs);
  const done = new Promise<SippResult>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      let errors = stderr;
      for (const f of readdirSync(dir)) if (f.endsWith('_errors.log')) errors += readFileSync(join(dir, f), 'utf8');
      const messages = run.traceMessages ? (existsSync(messageFile) ? readFileSync(messageFile) : Buffer.alloc(0)) : undefined;
      const files: Record<string, string> = {};
      for (const f of readdirSync(dir)) for (const end of run.keepFiles ?? []) if (f.endsWith(end)) files[end] = readFileSync(join(dir, f), 'utf8');
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, signal, errors: errors.slice(-2000), ...(messages ? { messages } : {}), ...(run.keepFiles ? { files } : {}) });
    });
  });
  return { done, kill: () => child.kill('SIGKILL') };
}
