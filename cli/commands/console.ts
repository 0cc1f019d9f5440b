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
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Settings } from '../../config/settings.ts';
import { BearerTokens } from '../../protocols/http/bearerTokens.ts';
import { numberingPlan } from '../../subscriber/numberingPlan.ts';
import { sharedView } from '../../streams/group-presence/policy/visibility.ts';
import { requesterView } from '../../connectors/sinks/group-presence/requesterView.ts';
import type { GroupPerspective } from '../../services/console/presenceGroups.ts';
import { listCaptures } from '../../services/console/consoleReplay.ts';
import { MANAGE_SCOPE } from '../../services/console/consoleSessions.ts';
import { scaleEventManagers } from '../../infra/local/eventManagerFleet.ts';

/** The project's generated captures (test/fixtures, tools/generator), offered for replay from the page. */
export const FIXTURES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures');

/**
 * What a watcher sees of a group, by the same functions GET /groups/{id}/presence
 * and the group NOTIFYs use (the console's floor may not import them itself).
 */
export function groupPerspective(s: Settings): GroupPerspective {
  const plan = numberingPlan(s);
  return (gp, watcher) => {
    if (watcher === null) return { allowed: true, members: gp.members.map(sharedView) };
    const v = requesterView(gp, watcher, plan);
    return v.allowed
      ? { allowed: true, members: v.members, ...(v.member ? { member: { uri: v.member.uri, role: v.member.role } } : {}) }
      : { allowed: false, reason: v.reason };
  };
}

const say = commandLog('console', loadSettings);

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export function registerConsoleCommand(program: Command): void {
  const run = program.commands.find((c) => c.name() === 'run') ?? program.command('run').description('run a pipeline component until interrupted');
  const cmd = run.command('console');
  addAdminOptions(cmd, 'console');
  flagsFromSettings(cmd, (s) => s.roles.console);
  cmd
    .description(
      'the live web console: event managers with their partitions and load, rebalances as they happen, flow rates and dead letters, one subscriber followed live (read-only; reads Kafka without a consumer group)',
    )
    .option('--port <port>', 'HTTP port (default PRESENCE_CONSOLE_PORT or 8088)')
    .option('--host <addr>', 'address to listen on (default PRESENCE_CONSOLE_HOST or 127.0.0.1)')
    .option('--no-directory', 'search subscribers by their own identity only, without the subscriber directory')
    .option(
      '--manage',
      `enable actions that change the system (replay from the page); a login with a bearer token of scope ${MANAGE_SCOPE} is required (needs PRESENCE_HTTP_TOKENS_FILE)`,
    )
    .option('--captures-dir <dir>', 'with --manage: also offer the captures in this directory for replay (besides the generated fixtures)')
    .action(
      async (opts: { port: string; host: string; directory: boolean; manage?: boolean; capturesDir?: string; adminPort?: string; adminHost?: string }) => {
        if (!/^\d+$/.test(opts.port) || Number(opts.port) > 65535) throw new Error(`--port must be 0-65535, not ${opts.port}`);
        const s = loadSettings();
        say.start();
        // The console has no login of its own (an EventSource cannot send a bearer token): with API tokens configured, it stays on loopback.
        if (s.http.tokensFile && !LOOPBACK.test(opts.host))
          throw new Error(
            `--host ${opts.host}: the console has no authentication, so with bearer tokens configured (PRESENCE_HTTP_TOKENS_FILE) it listens on loopback only`,
          );
        if (opts.capturesDir && !opts.manage) throw new Error('--captures-dir offers captures for replay, which needs --manage');
        // Management without tokens would be management for anyone who reaches the port.
        if (opts.manage && !s.http.tokensFile)
          throw new Error(`--manage needs API tokens: set PRESENCE_HTTP_TOKENS_FILE and create one with \`presence tokens create --scopes ${MANAGE_SCOPE}\``);
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
          groupPerspective: groupPerspective(s),
          ...(directory ? { directory } : {}),
          ...(opts.manage
            ? {
                management: {
                  tokens: BearerTokens.load(s.http.tokensFile!),
                  captures: listCaptures([
                    { label: 'fixtures', dir: FIXTURES_DIR },
                    ...(opts.capturesDir ? [{ label: 'captures', dir: opts.capturesDir }] : []),
                  ]),
                  // The local fleet, as `presence scale event-managers N` runs it (background members under $PRESENCE_HOME).
                  scale: (n: number, line: (l: string) => void) => scaleEventManagers(s, n, line),
                },
              }
            : {}),
        });
        state.app = app;
        registerConsoleMetrics(metrics, app);
        const addr = app.server.address();
        const port = typeof addr === 'object' && addr ? addr.port : Number(opts.port);
        if (opts.manage) say(`management enabled: log in on the page with a token of scope ${MANAGE_SCOPE}`);
        say(`console on http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}/ reading ${s.kafka.brokers} (prefix "${s.topics.prefix}")`);
        say(`stopping (${await untilSignal()})`);
        await app.stop();
        await directory?.close();
        await admin?.close();
      },
    );
}
