// `presence demo`
import type { Command } from 'commander';
import { runDemo } from '../demo/runDemo.ts';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('bring up the local stack and run the pipeline on bundled demo signaling (the quick start)')
    .option('--subscribers <n>', 'how many demo subscribers', '50')
    .option('--minutes <n>', 'simulated minutes of traffic', '60')
    .action(async (opts: { subscribers: string; minutes: string }) => {
      const n = Number(opts.subscribers);
      const minutes = Number(opts.minutes);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--subscribers must be a positive integer, not ${opts.subscribers}`);
      if (!Number.isInteger(minutes) || minutes < 1) throw new Error(`--minutes must be a positive integer, not ${opts.minutes}`);
      await runDemo({ subscribers: n, durationSeconds: minutes * 60, log: (l) => process.stderr.write(`${l}\n`), out: (l) => process.stdout.write(`${l}\n`) });
    });
}
