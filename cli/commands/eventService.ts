// `presence run event-service` (issue 17): registrations, the event log, webhooks,
// SSE and pull over HTTP (services/event-service). `presence events register |
// list | remove`: registrations straight in the service's database (the operator's
// tool; services themselves use PUT /services/{name} with an events:register token).
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings.ts';
import { HttpStats } from '../../protocols/http/httpStats.ts';
import { MetricsRegistry } from '../../protocols/http/metrics.ts';
import { DEFAULT_EVENT_SERVICE_PORT, startEventService, type EventService } from '../../services/event-service/eventService.ts';
import { eventServiceReadiness, registerEventServiceMetrics } from '../../services/event-service/eventServiceMetrics.ts';
import { EventStore } from '../../services/event-service/eventStore.ts';
import { parseRegistration, registrationJson, RegistrationInvalid } from '../../services/event-service/serviceRegistration.ts';
import { keyOf } from '../../coordinator/locator.ts';
import { commandLog } from '../logger.ts';
import { addAdminOptions, startAdminFor } from './adminPort.ts';
import { flagsFromSettings, whole } from './flagSettings.ts';
import { untilStopped } from './run.ts';

const say = commandLog('event-service', loadSettings);
const DEFAULT_SCHEMA = 'presence_events';

interface RunOpts {
  port: string;
  host: string;
  schema: string;
  retentionHours: string;
  webhookMaxBackoffS: string;
  statsInterval: string;
  adminPort?: string;
  adminHost?: string;
}

export function registerEventServiceCommands(program: Command): void {
  const run = program.commands.find((c) => c.name() === 'run') ?? program.command('run').description('run a pipeline component until interrupted');
  const cmd = run.command('event-service');
  addAdminOptions(cmd, 'eventService');
  flagsFromSettings(cmd, (s) => s.roles.eventService);
  cmd
    .description(
      'event notification for services: registrations (PUT /services/{name}), the event log (GET /event-log), webhooks (signed, retried, ordered per subscriber), SSE (GET /events/stream) and pull (GET /events?since=) of the service-events topic',
    )
    .option('--port <port>', 'HTTP port (default PRESENCE_EVENT_SERVICE_PORT or 8095)', String(DEFAULT_EVENT_SERVICE_PORT))
    .option('--host <addr>', 'address to listen on (default PRESENCE_EVENT_SERVICE_HOST or 127.0.0.1)')
    .option('--schema <name>', 'PostgreSQL schema of the event tables', DEFAULT_SCHEMA)
    .option('--retention-hours <h>', 'log events older than this are deleted (checked every 10 minutes)', String(7 * 24))
    .option('--webhook-max-backoff-s <s>', 'longest wait between two attempts of a webhook delivery (doubling from 0.5 s)', '60')
    .option('--stats-interval <s>', 'seconds between stats lines', '30')
    .action(async (opts: RunOpts) => {
      const port = whole('--port', opts.port, 0, 65535);
      const retentionMs = whole('--retention-hours', opts.retentionHours, 1, 24 * 3650) * 3600_000;
      const maxBackoffMs = whole('--webhook-max-backoff-s', opts.webhookMaxBackoffS, 1, 86_400) * 1000;
      const every = whole('--stats-interval', opts.statsInterval, 1, 86_400) * 1000;
      const s = loadSettings();
      say.start();
      const metrics = new MetricsRegistry();
      const stats = new HttpStats();
      let svc: EventService | undefined;
      // As every role's: the flag over PRESENCE_EVENT_SERVICE_ADMIN_PORT, on PRESENCE_ADMIN_HOST (0.0.0.0 in the pods, where the probes come from outside).
      const admin = await startAdminFor(s, 'eventService', opts, { metrics, ready: eventServiceReadiness(() => svc), log: say });
      try {
        svc = await startEventService(s, { port, host: opts.host, schema: opts.schema, retentionMs, webhooks: { maxBackoffMs }, stats, log: say });
        registerEventServiceMetrics(metrics, svc, stats);
        say(
          `event service on http://${opts.host}:${svc.port}/ (services, events, event-log), log in schema ${opts.schema}, reading ${s.topics.prefix}service-events`,
        );
        const line = () => {
          const i = svc!.ingest.stats;
          const w = svc!.webhooks.stats;
          return `logged ${i.logged} (duplicates ${i.duplicates}) for ${i.recipients} recipients; webhooks delivered ${w.delivered}, failed ${w.failed}; dead letters ${i.deadLetters}; retention deleted ${svc!.retention.deleted}`;
        };
        const timer = setInterval(() => say(line()), every);
        const { ended, failure } = await untilStopped(svc.ingest.done());
        clearInterval(timer);
        say(`stopping (${ended}); ${line()}`);
        await svc.stop();
        if (failure) throw failure;
      } finally {
        await admin?.close();
      }
    });

  const events = program.command('events').description('service registrations of the event service (issue 17), in its database');
  /** The event tables of `schema` (made if missing) for one command, closed after it. */
  const withStore = async <T>(schema: string, use: (st: EventStore) => Promise<T>): Promise<T> => {
    const st = new EventStore(loadSettings().database.url, schema);
    try {
      await st.migrate();
      return await use(st);
    } finally {
      await st.close();
    }
  };
  events
    .command('register <name>')
    .description('register or replace a service: --subscribe types (comma-separated, * for all) for --subscribers (or all), delivered by --delivery')
    .option('--publishes <types>', 'event types it publishes (comma-separated)')
    .option('--subscribe <types>', 'event types it subscribes to (comma-separated, or *)')
    .option('--subscribers <ids>', 'only these subscribers (MSISDN, IMSI, URI or key; comma-separated); default all')
    .option(
      '--contact-list <owner:list>',
      "instead of --subscribers: the members of OWNER's contact list (watched, allowed, denied or consent), e.g. +15551234:watched",
    )
    .option('--delivery <mode>', 'webhook | sse | pull', 'pull')
    .option('--url <url>', 'webhook URL')
    .option('--secret <secret>', 'webhook HMAC-SHA256 secret (16+ characters)')
    .option('--schema <name>', 'PostgreSQL schema of the event tables', DEFAULT_SCHEMA)
    .action(
      async (
        name: string,
        o: {
          publishes?: string;
          subscribe?: string;
          subscribers?: string;
          contactList?: string;
          delivery: string;
          url?: string;
          secret?: string;
          schema: string;
        },
      ) => {
        const list = (v?: string) =>
          v
            ? v
                .split(',')
                .map((x) => x.trim())
                .filter(Boolean)
            : undefined;
        const s = loadSettings();
        const subscribers = list(o.subscribers);
        // OWNER:LIST, the owner itself possibly a URI with colons: the list is after the last one.
        const cut = o.contactList?.lastIndexOf(':') ?? -1;
        const contactList = o.contactList ? { owner: await keyOf(s, o.contactList.slice(0, Math.max(0, cut))), list: o.contactList.slice(cut + 1) } : undefined;
        const body = {
          ...(o.publishes ? { publishes: list(o.publishes) } : {}),
          ...(o.subscribe
            ? {
                subscriptions: [
                  {
                    types: list(o.subscribe),
                    ...(subscribers ? { subscribers: await Promise.all(subscribers.map((x) => keyOf(s, x))) } : {}),
                    ...(contactList ? { contactList } : {}),
                  },
                ],
              }
            : {}),
          delivery: { mode: o.delivery, ...(o.url ? { url: o.url } : {}), ...(o.secret ? { secret: o.secret } : {}) },
        };
        let r;
        try {
          r = parseRegistration(name, body);
        } catch (err) {
          if (err instanceof RegistrationInvalid) throw new Error(`${err.message} (field ${err.field})`, { cause: err });
          throw err;
        }
        const { created } = await withStore(o.schema, (st) => st.register(r));
        console.log(JSON.stringify({ [created ? 'registered' : 'replaced']: registrationJson(r) }));
      },
    );
  events
    .command('list')
    .description('registered services (never their webhook secrets)')
    .option('--schema <name>', 'PostgreSQL schema of the event tables', DEFAULT_SCHEMA)
    .action(async (o: { schema: string }) => {
      for (const r of await withStore(o.schema, (st) => st.registrations())) console.log(JSON.stringify(registrationJson(r)));
    });
  events
    .command('remove <name>')
    .description('remove a registration (its event log rows stay)')
    .option('--schema <name>', 'PostgreSQL schema of the event tables', DEFAULT_SCHEMA)
    .action(async (name: string, o: { schema: string }) => {
      if (!(await withStore(o.schema, (st) => st.remove(name)))) throw new Error(`service ${name} is not registered`);
      console.log(JSON.stringify({ removed: name }));
    });
}
