// `presence scale event-managers N`: the local group of event managers as
// background processes (em-1 … em-N, static members, logs and pid files
// under the home directory). Scaling out adds members; scaling in stops the
// highest-numbered ones cleanly (SIGTERM: commit, leave the group), so the
// group rebalances their subscribers onto the others.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { projectRoot, type Settings } from '../../config/settings.ts';
import { type ManagedProcess, residentMb, runningPid, startDetached, stopProcess } from './processes.ts';

function member(s: Settings, n: number): ManagedProcess {
  return { name: `em-${n}`, pidFile: path.join(s.home, 'run', `em-${n}.pid`), logFile: path.join(s.home, 'logs', `em-${n}.log`) };
}

interface FleetMember {
  id: string;
  pid: number;
  memoryMb?: number;
  log: string;
}

/** Running members, by number. */
export function fleet(s: Settings): FleetMember[] {
  const dir = path.join(s.home, 'run');
  if (!existsSync(dir)) return [];
  const out: FleetMember[] = [];
  for (const f of readdirSync(dir)) {
    const m = /^em-(\d+)\.pid$/.exec(f);
    if (!m) continue;
    const p = member(s, Number(m[1]));
    const pid = runningPid(p);
    if (pid !== undefined) out.push({ id: p.name, pid, memoryMb: residentMb(pid), log: p.logFile });
  }
  return out.sort((a, b) => Number(a.id.slice(3)) - Number(b.id.slice(3)));
}

export async function scaleEventManagers(s: Settings, target: number, log: (line: string) => void): Promise<FleetMember[]> {
  if (!Number.isInteger(target) || target < 0) throw new Error(`the number of event managers must be 0 or more, not ${target}`);
  const running = new Set(fleet(s).map((m) => Number(m.id.slice(3))));
  for (let n = 1; n <= target; n++) {
    if (running.has(n)) continue;
    const p = member(s, n);
    const pid = startDetached(p, process.execPath, [path.join(projectRoot, 'bin/presence.mjs'), 'run', 'event-manager', '--member-id', `em-${n}`, '--static']);
    log(`started em-${n} (pid ${pid}, log ${p.logFile})`);
  }
  for (const n of [...running].filter((x) => x > target).sort((a, b) => b - a)) {
    log(`stopping em-${n}: ${await stopProcess(member(s, n), 60_000)}`);
  }
  return fleet(s);
}
