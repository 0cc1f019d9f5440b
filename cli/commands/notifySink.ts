// `presence run notify-sink`: delivers the NOTIFYs the event managers request
// (notify-requests → SIP NOTIFY → delivery-reports / dead-letters).
// Registered under `presence run` (after registerRunCommands).
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings.ts';
import { startNotifySink } from '../../connectors/sinks/notify/notifySink.ts';
import { DEFAULT_RETRY_POLICY } from '../../connectors/sinks/notify/policy.ts';
import { untilStopped } from './run.ts';

const say = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

function whole(name: string, v: string, min = 0): number {
  if (!/^\d+$/.test(v) || Number(v) < min) throw new Error(`${name} must be a whole number >= ${min}, not ${v}`);
  return Number(v);
}

interface Opts {
  port: string;
  host: string;
  advertise?: string;
  t1Ms: string;
  maxAttempts: string;
  backoffMs: string;
  backoffMaxMs: string;
  minIntervalMs: string;
  concurrency: string;
  groupId?: string;
  statsInterval: string;
  verbose?: boolean;
  contact?: string;
}

export function registerNotifySinkCommand(program: Command): void {
  const run = program.commands.find((c) => c.name() === 'run') ?? program.command('run').description('run a pipeline component until interrupted');
  run
    .command('notify-sink')
    .description('send the NOTIFYs of notify-requests to watchers (one in flight per dialog, dialogs concurrently) and record each outcome on delivery-reports')
    .option('--port <port>', 'SIP port (UDP and TCP) NOTIFYs are sent from; 0 picks one', '5080')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--advertise <host>', 'host for Via/Contact when it differs from --host')
    .option(
      '--contact <uri>',
      "Contact of the NOTIFYs, where watchers send refresh SUBSCRIBEs: the SIP front end's URI (default PRESENCE_NOTIFY_CONTACT, else this sink)",
    )
    .option('--t1-ms <ms>', 'SIP T1 (Timer F = 64·T1)', '500')
    .option('--max-attempts <n>', 'attempts per NOTIFY on timeout/408/5xx before giving up', String(DEFAULT_RETRY_POLICY.maxAttempts))
    .option('--backoff-ms <ms>', 'delay before the 2nd attempt (doubles; Retry-After honoured when longer)', String(DEFAULT_RETRY_POLICY.backoffBaseMs))
    .option('--backoff-max-ms <ms>', 'longest backoff', String(DEFAULT_RETRY_POLICY.backoffMaxMs))
    .option('--min-interval-ms <ms>', 'per-dialog rate limit: at least this long between NOTIFYs of one dialog (0 = off)', '0')
    .option('--concurrency <n>', 'concurrent SIP transactions over all dialogs', '256')
    .option('--group-id <id>', 'consumer group (default <prefix>notify-sink)')
    .option('--stats-interval <s>', 'seconds between stats lines', '10')
    .option('--verbose', 'log every outcome')
    .action(async (opts: Opts) => {
      const port = whole('--port', opts.port);
      if (port > 65535) throw new Error(`--port must be 0-65535, not ${port}`);
      const s = loadSettings();
      const sink = await startNotifySink(s, {
        host: opts.host,
        port,
        ...(opts.advertise ? { advertiseHost: opts.advertise } : {}),
        ...(opts.contact ? { contact: opts.contact } : {}),
        t1Ms: whole('--t1-ms', opts.t1Ms, 1),
        retry: {
          maxAttempts: whole('--max-attempts', opts.maxAttempts, 1),
          backoffBaseMs: whole('--backoff-ms', opts.backoffMs),
          backoffMaxMs: whole('--backoff-max-ms', opts.backoffMaxMs),
        },
        minIntervalMs: whole('--min-interval-ms', opts.minIntervalMs),
        maxConcurrent: whole('--concurrency', opts.concurrency, 1),
        ...(opts.groupId ? { groupId: opts.groupId } : {}),
        log: opts.verbose ? say : (line) => (/^NOTIFY /.test(line) ? undefined : say(line)),
      });
      say(`notify sink on ${opts.host}:${sink.port} (UDP+TCP), reading ${sink.inputTopic} at ${s.kafka.brokers}`);
      const timer = setInterval(() => say(sink.statsLine()), whole('--stats-interval', opts.statsInterval, 1) * 1000);
      const { ended, failure } = await untilStopped(sink.done());
      clearInterval(timer);
      say(`stopping (${ended}); ${sink.statsLine()}`);
      await sink.stop();
      if (failure) throw failure;
    });
}
