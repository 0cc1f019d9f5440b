// `presence run group-presence-api`: the group presence table sink
// (group-presence topic → PostgreSQL group_presence) and its HTTP view
// GET /groups/{id}/presence?watcher=<uri>. Registered under `presence run`.
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings.ts';
import { directoryResolver } from '../../front-end/sipFrontEnd.ts';
import { startGroupPresenceApi } from '../../connectors/sinks/group-presence/groupPresenceApi.ts';
import { BearerTokens } from '../../protocols/http/bearerTokens.ts';
import { GroupPresenceSink } from '../../connectors/sinks/group-presence/groupPresenceSink.ts';
import { GroupPresenceTable } from '../../connectors/sinks/group-presence/groupPresenceTable.ts';
import { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { numberingPlan } from '../../subscriber/numberingPlan.ts';
import { untilStopped } from './run.ts';
import { commandLog } from '../logger.ts';
import { flagsFromSettings } from './flagSettings.ts';
import { addAdminOptions, startAdminFor } from './adminPort.ts';
import { MetricsRegistry } from '../../protocols/http/metrics.ts';
import { HttpStats } from '../../protocols/http/httpStats.ts';
import {
  groupPresenceApiReadiness,
  registerGroupPresenceApiMetrics,
  type GroupPresenceApiState,
} from '../../connectors/sinks/group-presence/groupPresenceApiMetrics.ts';

const say = commandLog('group-presence-api', loadSettings);

interface Opts {
  port: string;
  host: string;
  schema: string;
  sink: boolean;
  directory: boolean;
  statsInterval: string;
  adminPort?: string;
  adminHost?: string;
}

export function registerGroupPresenceApiCommand(program: Command): void {
  const run = program.commands.find((c) => c.name() === 'run') ?? program.command('run').description('run a pipeline component until interrupted');
  const cmd = run.command('group-presence-api');
  addAdminOptions(cmd, 'groupPresenceApi');
  flagsFromSettings(cmd, (s) => s.roles.groupPresenceApi);
  cmd
    .description(
      'keep the PostgreSQL table group_presence from the group-presence topic and serve GET /groups/{id}/presence?watcher=<uri> (the document as that requester may see it)',
    )
    .option('--port <port>', 'HTTP port (default PRESENCE_GROUP_PRESENCE_API_PORT or 8092)')
    .option('--host <addr>', 'address to listen on (default PRESENCE_GROUP_PRESENCE_API_HOST or 127.0.0.1)')
    .option('--schema <name>', 'PostgreSQL schema of the group_presence table', 'presence')
    .option('--no-sink', 'serve the table only, without consuming group-presence (another instance keeps it)')
    .option('--no-directory', 'match requesters to members by URI only, without the subscriber directory')
    .option('--stats-interval <s>', 'seconds between stats lines', '10')
    .action(async (opts: Opts) => {
      if (!/^\d+$/.test(opts.port) || Number(opts.port) > 65535) throw new Error(`--port must be 0-65535, not ${opts.port}`);
      if (!/^\d+$/.test(opts.statsInterval) || Number(opts.statsInterval) < 1)
        throw new Error(`--stats-interval must be a whole number of seconds, not ${opts.statsInterval}`);
      const s = loadSettings();
      say.start();
      const state: GroupPresenceApiState = { listening: false };
      const metrics = new MetricsRegistry();
      const http = new HttpStats();
      registerGroupPresenceApiMetrics(metrics, state, http);
      const admin = await startAdminFor(s, 'groupPresenceApi', opts, { metrics, ready: groupPresenceApiReadiness(state), log: say });
      const table = new GroupPresenceTable(s.database.url, opts.schema);
      const directory = opts.directory ? new SubscriberDirectory(s.database.url) : undefined;
      try {
        await table.migrate();
        await directory?.migrate();
        state.table = table;
        const sink = opts.sink ? await GroupPresenceSink.start(s, table, { log: say }) : undefined;
        state.sink = sink;
        sink?.done().then(
          () => (state.sinkFailed = 'the group-presence sink stopped'),
          (err: Error) => (state.sinkFailed = `the group-presence sink stopped: ${err.message}`),
        );
        const server = await startGroupPresenceApi(
          {
            table,
            plan: numberingPlan(s),
            ...(directory ? { resolveKey: directoryResolver(s, directory) } : {}),
            ...(s.http.tokensFile ? { tokens: BearerTokens.load(s.http.tokensFile) } : {}),
            limits: s.http.limits,
            log: say,
            stats: http,
          },
          Number(opts.port),
          opts.host,
        );
        state.listening = true;
        say(
          `group presence API on http://${opts.host}:${(server.address() as { port: number }).port}/groups/{id}/presence?watcher=<uri>, table ${opts.schema}.group_presence` +
            (sink ? `, kept from ${sink.topic} at ${s.kafka.brokers}` : ', no sink'),
        );
        const timer = sink ? setInterval(() => say(sink.statsLine()), Number(opts.statsInterval) * 1000) : undefined;
        const { ended, failure } = await untilStopped(sink?.done());
        clearInterval(timer);
        say(`stopping (${ended})${sink ? `; ${sink.statsLine()}` : ''}`);
        await new Promise((r) => server.close(r));
        await sink?.stop();
        if (failure) throw failure;
      } finally {
        await directory?.close();
        await table.close();
        await admin?.close();
      }
    });
}
