// `--workers N` of `presence run sip-front`: N processes (node:cluster) that
// share the listening sockets, so one SIP address uses N cores — as Kamailio's
// `children` do. The primary only supervises: it forks the workers (each runs
// the same command and finds itself a worker), starts again one that dies, and
// on SIGTERM/SIGINT stops them all and waits for them.
import cluster, { type Worker } from 'node:cluster';

/** A worker that dies this soon after its start counts as failing to start. */
const EARLY_EXIT_MS = 5_000;
/** That many early exits in a row stop the pool: the command cannot run (a port taken, bad settings). */
const MAX_EARLY_EXITS = 5;
const RESTART_DELAY_MS = 1_000;
const STOP_GRACE_MS = 20_000;

/** Which worker this process is (1-based), from the environment the primary gave it; undefined in the primary or a lone process. */
export function workerIndex(): number | undefined {
  if (!cluster.isWorker) return undefined;
  const i = Number(process.env.PRESENCE_WORKER_INDEX);
  return Number.isInteger(i) && i > 0 ? i : undefined;
}

/**
 * Called when a worker's command has ended (stopped, or failed to start). Its IPC channel to the
 * primary would keep it alive — a worker whose listen failed stayed up, deaf, and so did the pool —
 * and letting go of the channel makes Node's cluster exit it with 0, so it exits here with the
 * command's own code, which the primary counts (the command has closed what it opened).
 */
export function releaseWorker(): void {
  if (cluster.isWorker) process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
}

/**
 * Runs `count` workers until a signal, restarting any that exits unasked.
 * Resolves with the exit code for the primary: 0 after a signal, 1 when workers keep failing at start.
 */
export async function superviseWorkers(count: number, log: (line: string) => void): Promise<number> {
  let stopping = false;
  let exitCode = 0;
  let earlyExits = 0;
  const live = new Map<number, Worker>();
  let settle: (code: number) => void = () => {};
  const done = new Promise<number>((r) => (settle = r));

  const fork = (index: number) => {
    const started = Date.now();
    const w = cluster.fork({ PRESENCE_WORKER_INDEX: String(index) });
    live.set(index, w);
    w.on('exit', (code, signal) => {
      live.delete(index);
      if (stopping) {
        if (live.size === 0) settle(exitCode);
        return;
      }
      earlyExits = Date.now() - started < EARLY_EXIT_MS ? earlyExits + 1 : 0;
      if (earlyExits >= MAX_EARLY_EXITS) {
        log(`worker ${index} exited (${signal ?? code}) ${earlyExits} times in a row right after starting: stopping the pool`);
        void stop(1);
        return;
      }
      log(`worker ${index} (pid ${w.process.pid}) exited (${signal ?? `code ${code}`}); starting it again in ${RESTART_DELAY_MS} ms`);
      setTimeout(() => !stopping && fork(index), RESTART_DELAY_MS);
    });
  };

  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    if (live.size === 0) return settle(code);
    for (const w of live.values()) w.process.kill('SIGTERM');
    const t = setTimeout(() => {
      for (const w of live.values()) w.process.kill('SIGKILL');
    }, STOP_GRACE_MS);
    await done;
    clearTimeout(t);
  };

  for (const sig of ['SIGTERM', 'SIGINT'] as const)
    process.once(sig, () => {
      log(`stopping ${live.size} workers (${sig})`);
      void stop(0);
    });
  for (let i = 1; i <= count; i++) fork(i);
  log(`${count} workers sharing the listening sockets (pids ${[...live.values()].map((w) => w.process.pid).join(', ')})`);
  return done;
}
