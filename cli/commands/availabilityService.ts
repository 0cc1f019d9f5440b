// `presence run availability-service`: the availability service (issue 16 part 6):
// profiles over HTTP, every committed change to the availability-profiles topic
// through the outbox, so the owning event manager applies it within a second.
// Registered under `presence run` (after registerRunCommands).
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings.ts';
import { maskedUrl } from '../../config/secrets.ts';
import { HttpStats } from '../../protocols/http/httpStats.ts';
import { MetricsRegistry } from '../../protocols/http/metrics.ts';
import { startAvailabilityService, type AvailabilityService } from '../../services/availability-service/availabilityService.ts';
import { availabilityServiceReadiness, registerAvailabilityServiceMetrics } from '../../services/availability-service/availabilityServiceMetrics.ts';
import { commandLog } from '../logger.ts';
import { addAdminOptions, startAdminFor } from './adminPort.ts';
import { flagsFromSettings, whole } from './flagSettings.ts';
import { WatcherRules } from '../../streams/event-manager/authorization/watcherRules.ts';
import { WatcherConsentService } from '../../services/availability-service/watcherConsents.ts';
import { KafkaMessageService } from '../../services/availability-service/messagePublisher.ts';
import { untilSignal } from './run.ts';

const say = commandLog('availability-service', loadSettings);

interface Opts {
  port: string;
  host: string;
  schema: string;
  relay: boolean;
  maxBody: string;
  statsInterval: string;
  adminPort?: string;
  adminHost?: string;
}

export function registerAvailabilityServiceCommand(program: Command): void {
  const run = program.commands.find((c) => c.name() === 'run') ?? program.command('run').description('run a pipeline component until interrupted');
  const cmd = run.command('availability-service');
  addAdminOptions(cmd, 'availabilityService');
  flagsFromSettings(cmd, (s) => s.roles.availabilityService);
  cmd
    .description(
      'the availability service: availability profiles over an HTTP JSON API (GET/PUT /subscribers/{s}/profiles, POST …/profiles/activation); every change reaches the owning event manager through the availability-profiles topic via a transactional outbox',
    )
    .option('--port <port>', 'HTTP port (default PRESENCE_AVAILABILITY_SERVICE_PORT or 8093)')
    .option('--host <addr>', 'address to listen on (default PRESENCE_AVAILABILITY_SERVICE_HOST or 127.0.0.1)')
    .option('--schema <name>', 'PostgreSQL schema of the availability tables (the event managers’ rules schema)', 'presence')
    .option('--no-relay', 'serve the API only; another instance relays the outbox to Kafka')
    .option('--max-body <bytes>', 'largest request body accepted (larger: 413)', String(256 * 1024))
    .option('--stats-interval <s>', 'seconds between stats lines', '30')
    .action(async (opts: Opts) => {
      const port = whole('--port', opts.port, 0, 65535);
      const maxBodyBytes = whole('--max-body', opts.maxBody, 0, 64 * 1024 * 1024);
      const statsEvery = whole('--stats-interval', opts.statsInterval, 0, 86400) * 1000;
      const s = loadSettings();
      say.start();
      const metrics = new MetricsRegistry();
      const stats = new HttpStats();
      let started: AvailabilityService | undefined;
      const admin = await startAdminFor(s, 'availabilityService', opts, { metrics, ready: availabilityServiceReadiness(() => started), log: say });
      try {
        // Approve/deny of pending watchers (issue 16.4): rules in the event managers' table, the answer to the owner through watcher-consents.
        const consents = new WatcherConsentService(s, new WatcherRules(s.database.url, s.eventManager.defaultWatcherDecision, opts.schema, 0));
        await consents.start();
        // A voicemail platform's mailbox counts and new messages (issue 17.5), to the owner through signaling-events.
        const messages = new KafkaMessageService(s);
        await messages.start();
        const svc = await startAvailabilityService(s, {
          stats,
          host: opts.host,
          port,
          schema: opts.schema,
          relay: opts.relay,
          maxBodyBytes,
          log: say,
          consents,
          messages,
        });
        started = svc;
        registerAvailabilityServiceMetrics(metrics, svc, stats, consents);
        say(
          `availability service on http://${opts.host}:${svc.port}/subscribers/{subscriber}/profiles, tables in ${maskedUrl(s.database.url)} schema ${opts.schema}, ` +
            (svc.relay ? `changes to ${s.topics.prefix}availability-profiles at ${s.kafka.brokers}` : 'outbox relay off'),
        );
        const statsLine = async () => {
          const st = svc.relay?.stats;
          return (
            `outbox backlog ${await svc.store.outboxBacklog()}` +
            (st ? `, published ${st.published}, relay failures ${st.failures}${st.lastError ? ` (last: ${st.lastError})` : ''}` : '')
          );
        };
        const timer = setInterval(() => void statsLine().then(say, (e: Error) => say(`stats: ${e.message}`)), statsEvery);
        const sig = await untilSignal();
        clearInterval(timer);
        say(`stopping (${sig}); ${await statsLine().catch((e: Error) => e.message)}`);
        await svc.stop();
        await consents.close();
        await messages.close();
      } finally {
        await admin?.close();
      }
    });
}
