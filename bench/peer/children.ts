// The processes the peer benchmark starts (Kamailio, our edge's components):
// each in its own process group with its output in a log file, all killed
// when the benchmark ends — normally, on an error, or on Ctrl-C — so no
// server outlives a run.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly logFile: string;
  /** Resolves when it has exited. */
  readonly exited: Promise<void>;
  /** SIGTERM to its group, SIGKILL after graceMs. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<Child>();

/** Kills every group still running, at once (for exit paths that cannot wait). */
function killAll(): void {
  for (const c of running) if (c.process.pid) tryKill(-c.process.pid, 'SIGKILL');
  running.clear();
}

function tryKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      killAll();
      process.exit(130);
    });
}

export function startChild(name: string, command: string, args: readonly string[], o: { env?: NodeJS.ProcessEnv; cwd?: string; logFile: string }): Child {
  hookExit();
  const out = openSync(o.logFile, 'a');
  const child = spawn(command, args, { cwd: o.cwd, env: o.env ?? process.env, stdio: ['ignore', out, out], detached: true });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const c: Child = {
    name,
    process: child,
    logFile: o.logFile,
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null && child.pid) {
        tryKill(-child.pid, 'SIGTERM');
        const t = setTimeout(() => child.pid && tryKill(-child.pid, 'SIGKILL'), graceMs);
        await exited;
        clearTimeout(t);
      }
      running.delete(c);
    },
  };
  running.add(c);
  void exited.then(() => running.delete(c));
  return c;
}
