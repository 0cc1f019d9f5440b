import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { forkWorkers, StuckWorkerWatch } from './stuckWorkers.mjs';

describe('StuckWorkerWatch', () => {
  it('names a worker whose CPU time stood still for the limit, not one that moved or left', () => {
    const watch = new StuckWorkerWatch(600_000);
    expect(
      watch.observe(
        [
          { pid: 1, cpuTicks: 10 },
          { pid: 2, cpuTicks: 10 },
        ],
        0,
      ),
    ).toEqual([]);
    expect(
      watch.observe(
        [
          { pid: 1, cpuTicks: 10 },
          { pid: 2, cpuTicks: 11 },
        ],
        300_000,
      ),
    ).toEqual([]);
    expect(
      watch.observe(
        [
          { pid: 1, cpuTicks: 10 },
          { pid: 2, cpuTicks: 11 },
        ],
        600_000,
      ),
    ).toEqual([1]);
    // Worker 2 moved at 300 s: stuck only from 900 s on; worker 1 left.
    expect(watch.observe([{ pid: 2, cpuTicks: 11 }], 899_000)).toEqual([]);
    expect(
      watch.observe(
        [
          { pid: 2, cpuTicks: 11 },
          { pid: 1, cpuTicks: 10 },
        ],
        900_000,
      ),
    ).toEqual([2]);
  });
});

describe.skipIf(process.platform !== 'linux')('forkWorkers', () => {
  it('finds the fork workers under a process, with their CPU time, and nothing else', async () => {
    // A stand-in whose command line names the fork worker script, under a parent of its own.
    const parent = spawn(
      process.execPath,
      [
        '-e',
        "require('child_process').spawn(process.execPath, ['-e', 'setTimeout(()=>{}, 20000)', 'vitest/dist/workers/forks.js'], { stdio: 'ignore' }); setTimeout(()=>{}, 20000)",
      ],
      {
        stdio: 'ignore',
      },
    );
    let found: ReturnType<typeof forkWorkers> = [];
    try {
      for (let i = 0; i < 100 && found.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
        found = forkWorkers(parent.pid!);
      }
      expect(found).toHaveLength(1);
      expect(found[0]!.pid).not.toBe(parent.pid);
      expect(found[0]!.cpuTicks).toBeGreaterThanOrEqual(0);
    } finally {
      for (const w of found) process.kill(w.pid, 'SIGKILL');
      process.kill(parent.pid!, 'SIGKILL');
    }
  });
});
