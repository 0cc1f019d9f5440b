export interface ForkWorker {
  pid: number;
  cpuTicks: number;
}
export function forkWorkers(rootPid: number): ForkWorker[];
export class StuckWorkerWatch {
  constructor(limitMs: number);
  observe(workers: ForkWorker[], nowMs: number): number[];
}
