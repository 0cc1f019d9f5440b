// `presence run console`: the live web console (services/console/).
// Registered under `presence run` (after registerRunCommands).
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings.ts';
import { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { startConsole, type Console } from '../../services/console/consoleServer.ts';
import { consoleReadiness, registerConsoleMetrics } from '../../services/console/consoleMetrics.ts';
import { MetricsRegistry } from '../../protocols/http/metrics.ts';
import { addAdminOptions, startAdminFor } from './adminPort.ts';
import { flagsFromSettings } from './flagSettings.ts';
import { EVENT_MANAGER_GROUP, EVENT_MANAGER_INPUTS } from '../../streams/event-manager/eventManager.ts';
import { untilSignal } from './run.ts';
import { commandLog } from '../logger.ts';

const say = commandLog('console', loadSettings);

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export function registerConsoleCommand(program: Command): void {
  const run = program.commands.find((c) => c.name() === 'run') ?? program.command('run').description('run a pipeline component until interrupted');
  const cmd = run.command('console');
  addAdminOptions(cmd, 'console');
  flagsFromSettings(cmd, (s) => ({ port: s.roles.console.port, host: s.roles.console.host }));
  cmd
    .description(
      'the live web console: event managers with their partitions and load, rebalances as they happen, flow rates and dead letters, one subscriber followed live (read-only; reads Kafka without a consumer group)',
    )
    .option('--port <port>', 'HTTP port (default PRESENCE_CONSOLE_PORT or 8088)')
    .option('--host <addr>', 'address to listen on (default PRESENCE_CONSOLE_HOST or 127.0.0.1)')
    .option('--no-directory', 'search subscribers by their own identity only, without the subscriber directory')
    .action(async (opts: { port: string; host: string; directory: boolean; adminPort?: string; adminHost?: string }) => {
      if (!/^\d+$/.test(opts.port) || Number(opts.port) > 65535) throw new Error(`--port must be 0-65535, not ${opts.port}`);
      const s = loadSettings();
      say.start();
      // The console has no login of its own (an EventSource cannot send a bearer token): with API tokens configured, it stays on loopback.
      if (s.http.tokensFile && !LOOPBACK.test(opts.host))
        throw new Error(
          `--host ${opts.host}: the console has no authentication, so with bearer tokens configured (PRESENCE_HTTP_TOKENS_FILE) it listens on loopback only`,
        );
      const metrics = new MetricsRegistry();
      const state: { app?: Console } = {};
      const admin = await startAdminFor(s, 'console', opts, { metrics, ready: () => consoleReadiness(state.app), log: say });
      let directory: SubscriberDirectory | undefined = opts.directory ? new SubscriberDirectory(s.database.url) : undefined;
      try {
        await directory?.migrate();
      } catch (err) {
        // The page is useful without the directory; searches then use the identity as typed.
        say(`subscriber directory unavailable, searching without it: ${(err as Error).message}`);
        await directory?.close();
        directory = undefined;
      }
      const app = await startConsole(s, {
        port: Number(opts.port),
        host: opts.host,
        lag: { groupId: `${s.topics.prefix}${EVENT_MANAGER_GROUP}`, topics: EVENT_MANAGER_INPUTS },
        log: say,
        ...(directory ? { directory } : {}),
      });
      state.app = app;
      registerConsoleMetrics(metrics, app);
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : Number(opts.port);
      say(`console on http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}/ reading ${s.kafka.brokers} (prefix "${s.topics.prefix}")`);
      say(`stopping (${await untilSignal()})`);
      await app.stop();
      await directory?.close();
      await admin?.close();
    });
}
