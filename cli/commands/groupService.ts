// `presence run group-service`: the group service (basic group information
// over HTTP, every change to the groups topic through the outbox).
// Registered under `presence run` (after registerRunCommands).
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings.ts';
import { maskedUrl } from '../../config/secrets.ts';
import { startGroupService } from '../../services/group-service/groupService.ts';
import { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { untilSignal } from './run.ts';
import { commandLog } from '../logger.ts';
import { MetricsRegistry } from '../../protocols/http/metrics.ts';
import { HttpStats } from '../../protocols/http/httpStats.ts';
import { addAdminOptions, startAdminFor } from './adminPort.ts';
import { flagsFromSettings, whole } from './flagSettings.ts';
import { groupServiceReadiness, registerGroupServiceMetrics } from '../../services/group-service/groupServiceMetrics.ts';
import type { GroupService } from '../../services/group-service/groupService.ts';

const say = commandLog('group-service', loadSettings);

interface Opts {
  port: string;
  host: string;
  schema: string;
  relay: boolean;
  directory: boolean;
  maxBody: string;
  statsInterval: string;
  adminPort?: string;
  adminHost?: string;
}

export function registerGroupServiceCommand(program: Command): void {
  const run = program.commands.find((c) => c.name() === 'run') ?? program.command('run').description('run a pipeline component until interrupted');
  const cmd = run.command('group-service');
  addAdminOptions(cmd, 'groupService');
  flagsFromSettings(cmd, (s) => s.roles.groupService);
  cmd
    .description(
      'the group service (Pm): groups, members and their policies in PostgreSQL over an HTTP JSON API; every change to the groups topic via a transactional outbox',
    )
    .option('--port <port>', 'HTTP port (default PRESENCE_GROUP_SERVICE_PORT or 8091)')
    .option('--host <addr>', 'address to listen on (default PRESENCE_GROUP_SERVICE_HOST or 127.0.0.1)')
    .option('--schema <name>', 'PostgreSQL schema of the group tables', 'presence')
    .option('--no-relay', 'serve the API only; another instance relays the outbox to Kafka')
    .option('--no-directory', 'key members by their URI only, without the subscriber directory')
    .option('--max-body <bytes>', 'largest request body accepted (larger: 413)', String(256 * 1024))
    .option('--stats-interval <s>', 'seconds between stats lines', '30')
    .action(async (opts: Opts) => {
      const port = whole('--port', opts.port, 0, 65535);
      const maxBodyBytes = whole('--max-body', opts.maxBody, 0, 64 * 1024 * 1024);
      const s = loadSettings();
      say.start();
      const metrics = new MetricsRegistry();
      const stats = new HttpStats();
      let started: GroupService | undefined;
      const admin = await startAdminFor(s, 'groupService', opts, { metrics, ready: groupServiceReadiness(() => started), log: say });
      const directory = opts.directory ? new SubscriberDirectory(s.database.url) : undefined;
      try {
        await directory?.migrate();
        const svc = await startGroupService(s, {
          stats,
          host: opts.host,
          port,
          schema: opts.schema,
          relay: opts.relay,
          maxBodyBytes,
          log: say,
          ...(directory ? { directory } : {}),
        });
        started = svc;
        registerGroupServiceMetrics(metrics, svc, stats);
        say(
          `group service on http://${opts.host}:${svc.port}/groups, tables in ${maskedUrl(s.database.url)} schema ${opts.schema}, ` +
            (svc.relay ? `changes to ${s.topics.prefix}groups at ${s.kafka.brokers}` : 'outbox relay off'),
        );
        const statsLine = async () => {
          const st = svc.relay?.stats;
          return (
            `outbox backlog ${await svc.store.outboxBacklog()}` +
            (st ? `, published ${st.published}, relay failures ${st.failures}${st.lastError ? ` (last: ${st.lastError})` : ''}` : '')
          );
        };
        const timer = setInterval(
          () => void statsLine().then(say, (e: Error) => say(`stats: ${e.message}`)),
          whole('--stats-interval', opts.statsInterval, 0, 86400) * 1000,
        );
        const sig = await untilSignal();
        clearInterval(timer);
        say(`stopping (${sig}); ${await statsLine().catch((e: Error) => e.message)}`);
        await svc.stop();
      } finally {
        await directory?.close();
        await admin?.close();
      }
    });
}
