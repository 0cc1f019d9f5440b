// Finds vitest fork workers that stopped making progress, so `npm test` can kill
// them and run their file again instead of hanging until CI's own limit. Seen
// once (2026-12-08): a worker sat 20 minutes before importing its file
// (serverTransaction.test.ts, 6 tests that take 10 ms), using no CPU at all.
// A worker runs one file and exits; the slowest file takes under 2 minutes, and
// even one waiting on Kafka uses some CPU. Linux only (/proc); elsewhere nothing
// is ever stuck.
import { existsSync, readdirSync, readFileSync } from 'node:fs';

const FORK_WORKER = 'vitest/dist/workers/forks.js';

/** The vitest fork workers under `rootPid` with their CPU time so far (clock ticks, user + system). */
export function forkWorkers(rootPid) {
  if (!existsSync('/proc/self/stat')) return [];
  const procs = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // After the command name in parentheses: state, ppid, … utime (14th field), stime (15th).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      procs.push({ pid: Number(name), ppid: Number(fields[1]), cpuTicks: Number(fields[11]) + Number(fields[12]), cmdline });
    } catch {
      // gone meanwhile
    }
  }
  const under = new Set([rootPid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) {
      if (under.has(p.pid) || !under.has(p.ppid)) continue;
      under.add(p.pid);
      grew = true;
    }
  }
  return procs.filter((p) => p.pid !== rootPid && under.has(p.pid) && p.cmdline.includes(FORK_WORKER)).map(({ pid, cpuTicks }) => ({ pid, cpuTicks }));
}

/** Remembers when each worker last used CPU; `stuck` names those idle longer than `limitMs`. */
export class StuckWorkerWatch {
  constructor(limitMs) {
    this.limitMs = limitMs;
    this.seen = new Map();
  }

  /** Takes a sample of the workers; returns the pids that used no CPU for `limitMs`. */
  observe(workers, nowMs) {
    const alive = new Set();
    const stuck = [];
    for (const w of workers) {
      alive.add(w.pid);
      const last = this.seen.get(w.pid);
      if (!last || last.cpuTicks !== w.cpuTicks) this.seen.set(w.pid, { cpuTicks: w.cpuTicks, since: nowMs });
      else if (nowMs - last.since >= this.limitMs) stuck.push(w.pid);
    }
    for (const pid of this.seen.keys()) if (!alive.has(pid)) this.seen.delete(pid);
    return stuck;
  }
}
