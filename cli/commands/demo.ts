// `presence demo`
import type { Command } from 'commander';
import { runDemo } from '../demo/runDemo.ts';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('bring up the local stack and run the pipeline on bundled demo signaling (the quick start)')
    .option('--subscribers <n>', 'how many demo subscribers', '20')
    .action(async (opts: { subscribers: string }) => {
      const n = Number(opts.subscribers);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--subscribers must be a positive integer, not ${opts.subscribers}`);
      await runDemo({ subscribers: n, log: (l) => process.stderr.write(`${l}\n`), out: (l) => process.stdout.write(`${l}\n`) });
    });
}
