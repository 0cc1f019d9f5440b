// `presence run location-agent`: the presence network agent of Le — answers the
// event managers' location-requests by asking a GMLC over OMA MLP 3.x, and
// publishes each position on signaling-events (connectors/location-agent/).
// Registered under `presence run` (after registerRunCommands).
import type { Command } from 'commander';
import os from 'node:os';
import { loadSettings } from '../../config/settings.ts';
import { LocationAgent } from '../../connectors/location-agent/locationAgent.ts';
import { LocationAgentLoop } from '../../connectors/location-agent/locationAgentLoop.ts';
import { MlpLocationQuery } from '../../taps/network-query/mlpLocationQuery.ts';
import { QueryGuard } from '../../taps/network-query/queryGuard.ts';
import { untilStopped } from './run.ts';
import { flagsFromSettings, whole } from './flagSettings.ts';
import { addAdminOptions, startAdminFor } from './adminPort.ts';
import { MetricsRegistry } from '../../protocols/http/metrics.ts';
import { registerNetworkQueryMetrics } from '../../taps/network-query/networkQueryMetrics.ts';
import { commandLog } from '../logger.ts';

const say = commandLog('location-agent', loadSettings);

interface Opts {
  mlpUrl?: string;
  clientId: string;
  accuracyM: string;
  maxAgeS: string;
  minIntervalS: string;
  timeoutMs: string;
  concurrency: string;
  statsInterval: string;
  adminPort?: string;
  adminHost?: string;
}

export function registerLocationAgentCommand(program: Command): void {
  const run = program.commands.find((c) => c.name() === 'run') ?? program.command('run').description('run a pipeline component until interrupted');
  const cmd = run.command('location-agent');
  addAdminOptions(cmd, 'locationAgent');
  // Every flag but the password, a secret (environment or file only, never on a command line).
  flagsFromSettings(cmd, ({ locationAgent: l }) => ({
    mlpUrl: l.mlpUrl,
    clientId: l.clientId,
    accuracyM: l.accuracyM,
    maxAgeS: l.maxAgeS,
    minIntervalS: l.minIntervalS,
    timeoutMs: l.timeoutMs,
    concurrency: l.concurrency,
    statsInterval: l.statsInterval,
  }));
  cmd
    .description('answer location-requests by asking a GMLC over OMA MLP 3.x (Le) and publish each position on signaling-events')
    .option('--mlp-url <url>', "the GMLC's MLP endpoint, http(s):// (setting locationAgent.mlpUrl, PRESENCE_MLP_URL); the password is PRESENCE_MLP_PASSWORD")
    .option('--client-id <id>', 'MLP client id', 'presence')
    .option('--accuracy-m <m>', 'requested horizontal accuracy, meters', '500')
    .option('--max-age-s <s>', 'oldest acceptable position when the request names none, seconds (MLP max_loc_age)', '300')
    .option('--min-interval-s <s>', 'at most one query per subscriber this often (positioning costs the network)', '60')
    .option('--timeout-ms <ms>', 'time budget of one query', '10000')
    .option('--concurrency <n>', 'queries in flight at once', '8')
    .option('--stats-interval <s>', 'seconds between stats lines (0 = off)', '30')
    .action(async (o: Opts) => {
      const s = loadSettings();
      const url = o.mlpUrl;
      if (!url) throw new Error('location-agent needs the GMLC: --mlp-url or PRESENCE_MLP_URL');
      const query = new MlpLocationQuery({
        url,
        clientId: o.clientId,
        password: s.locationAgent.password ?? null,
        horizontalAccuracyM: whole('--accuracy-m', o.accuracyM, 1),
        maxLocationAgeS: whole('--max-age-s', o.maxAgeS),
      });
      const guard = new QueryGuard(query, {
        minIntervalMs: whole('--min-interval-s', o.minIntervalS) * 1000,
        timeoutMs: whole('--timeout-ms', o.timeoutMs, 1),
      });
      const agent = new LocationAgent(guard, `location-agent-${os.hostname()}`);
      const metrics = new MetricsRegistry();
      registerNetworkQueryMetrics(metrics, [guard]);
      // Filled once Kafka is connected: the admin port answers (not ready) before that.
      const running: { loop?: LocationAgentLoop } = {};
      metrics.counter('presence_location_requests_total', 'location-requests read', () => running.loop?.stats.requests ?? 0);
      metrics.counter('presence_location_positions_total', 'Positions published on signaling-events', () => running.loop?.stats.positions ?? 0);
      metrics.counter(
        'presence_location_undecodable_total',
        'location-requests records that could not be decoded (dead-lettered with their bytes)',
        () => running.loop?.stats.undecodable ?? 0,
      );
      const admin = await startAdminFor(s, 'locationAgent', o, {
        metrics,
        ready: () => (running.loop ? { ok: true } : { ok: false, reason: 'connecting to Kafka' }),
        log: say,
      });
      const loop = (running.loop = await LocationAgentLoop.start(s, agent, { concurrency: whole('--concurrency', o.concurrency, 1), log: say }));
      say(`asking ${new URL(url).origin} for location-requests of ${s.topics.prefix || '(no prefix)'}`);
      const statsLine = () => {
        const outcomes = [...guard.stats.outcomes].map(([k, v]) => `${k}=${v}`).join(' ') || 'none';
        return `requests=${loop.stats.requests} positions=${loop.stats.positions} undecodable=${loop.stats.undecodable} outcomes: ${outcomes}`;
      };
      const every = whole('--stats-interval', o.statsInterval);
      const timer = every > 0 ? setInterval(() => say(statsLine()), every * 1000) : undefined;
      const { ended, failure } = await untilStopped(loop.done());
      clearInterval(timer);
      say(`stopping (${ended}); ${statsLine()}`);
      await loop.stop();
      await admin?.close();
      if (failure) throw failure;
    });
}
