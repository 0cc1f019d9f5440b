// `presence demo`
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings.ts';
import { runDemo } from '../demo/runDemo.ts';
import { runDemoWithConsole } from '../demo/demoConsole.ts';
import { untilSignal } from './run.ts';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('bring up the local stack and run the pipeline on bundled demo signaling (the quick start)')
    .option('--subscribers <n>', 'how many demo subscribers', '50')
    .option('--minutes <n>', 'simulated minutes of traffic', '60')
    .option(
      '--console [port]',
      'also serve the web console (default port 8088), pace the traffic so it can be watched, and keep the console up afterwards until Ctrl-C',
    )
    .option('--watch-seconds <n>', 'with --console: real seconds the traffic is spread over', '60')
    .action(async (opts: { subscribers: string; minutes: string; console?: string | boolean; watchSeconds: string }) => {
      const n = Number(opts.subscribers);
      const minutes = Number(opts.minutes);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--subscribers must be a positive integer, not ${opts.subscribers}`);
      if (!Number.isInteger(minutes) || minutes < 1) throw new Error(`--minutes must be a positive integer, not ${opts.minutes}`);
      const log = (l: string) => process.stderr.write(`${l}\n`);
      const out = (l: string) => process.stdout.write(`${l}\n`);
      if (opts.console === undefined) {
        await runDemo({ subscribers: n, durationSeconds: minutes * 60, log, out });
        return;
      }
      const port = opts.console === true ? 8088 : Number(opts.console);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--console must be a port 0-65535, not ${String(opts.console)}`);
      const watchSeconds = Number(opts.watchSeconds);
      if (!Number.isInteger(watchSeconds) || watchSeconds < 1) throw new Error(`--watch-seconds must be a positive integer, not ${opts.watchSeconds}`);
      const run = await runDemoWithConsole({ subscribers: n, durationSeconds: minutes * 60, port, watchSeconds, log, out }, loadSettings());
      log(`the console stays on ${run.url} (try: npx presence scale event-managers 3, or search a subscriber above); Ctrl-C stops it`);
      log(`stopping (${await untilSignal()})`);
      await run.console.stop();
    });
}
