// `presence run notify-sink`: delivers the NOTIFYs the event managers request
// (notify-requests → SIP NOTIFY → delivery-reports / dead-letters).
// Registered under `presence run` (after registerRunCommands).
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings.ts';
import { startNotifySink } from '../../connectors/sinks/notify/notifySink.ts';
import { DEFAULT_RETRY_POLICY } from '../../connectors/sinks/notify/policy.ts';
import { untilStopped } from './run.ts';
import { memberIdOf } from '../../kafka/memberIdentity.ts';
import { memberIdOption, memberIndexOption } from './memberIdOptions.ts';
import { commandLog } from '../logger.ts';
import { MetricsRegistry } from '../../protocols/http/metrics.ts';
import { notifySinkReadiness, registerNotifySinkMetrics } from '../../connectors/sinks/notify/notifySinkMetrics.ts';
import type { NotifySink } from '../../connectors/sinks/notify/notifySink.ts';
import { addAdminOptions, startAdminFor } from './adminPort.ts';
import { flagsFromSettings, whole } from './flagSettings.ts';

const say = commandLog('notify-sink', loadSettings);

interface Opts {
  port: string;
  host: string;
  advertise?: string;
  t1Ms: string;
  maxAttempts: string;
  unansweredMaxAttempts: string;
  backoffMs: string;
  backoffMaxMs: string;
  minIntervalMs: string;
  concurrency: string;
  coalesce?: boolean;
  maxQueuedPerDialog: string;
  maxPending: string;
  maxPollIntervalMs?: string;
  groupId?: string;
  memberId?: string;
  memberIndex: string;
  dynamic?: boolean;
  statsInterval: string;
  verbose?: boolean;
  contact?: string;
  udpMaxBytes?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  adminPort?: string;
  adminHost?: string;
  maxOutageS?: string;
}

export function registerNotifySinkCommand(program: Command): void {
  const run = program.commands.find((c) => c.name() === 'run') ?? program.command('run').description('run a pipeline component until interrupted');
  const cmd = run.command('notify-sink');
  addAdminOptions(cmd, 'notifySink');
  flagsFromSettings(cmd, (s) => ({
    ...s.roles.notifySink,
    contact: s.notifySink.contact,
    udpMaxBytes: s.notifySink.udpMaxRequestBytes,
    maxOutageS: s.notifySink.maxOutageS,
    tlsCa: s.notifySink.tls.caFile,
    tlsCert: s.notifySink.tls.certFile,
    tlsKey: s.notifySink.tls.keyFile,
  }));
  cmd
    .description('send the NOTIFYs of notify-requests to watchers (one in flight per dialog, dialogs concurrently) and record each outcome on delivery-reports')
    .option('--port <port>', 'SIP port (UDP and TCP) NOTIFYs are sent from; 0 picks one (default PRESENCE_NOTIFY_SINK_PORT or 5080)')
    .option('--host <addr>', 'address to listen on (default PRESENCE_NOTIFY_SINK_HOST or 127.0.0.1)')
    .option('--advertise <host>', 'host for Via/Contact when it differs from --host (default PRESENCE_NOTIFY_SINK_ADVERTISE)')
    .option(
      '--contact <uri>',
      "Contact of the NOTIFYs, where watchers send refresh SUBSCRIBEs: the SIP front end's URI (default PRESENCE_NOTIFY_CONTACT, else this sink)",
    )
    .option('--t1-ms <ms>', 'SIP T1 (Timer F = 64·T1)', '500')
    .option('--max-attempts <n>', 'attempts per NOTIFY on timeout/408/5xx before giving up', String(DEFAULT_RETRY_POLICY.maxAttempts))
    .option(
      '--unanswered-max-attempts <n>',
      'attempts per NOTIFY while none was answered at all (Timer F, transport errors): a silent Contact is given up on sooner and gets no terminated NOTIFY (RFC 6665 §9)',
      String(DEFAULT_RETRY_POLICY.unansweredMaxAttempts),
    )
    .option('--backoff-ms <ms>', 'delay before the 2nd attempt (doubles; Retry-After honoured when longer)', String(DEFAULT_RETRY_POLICY.backoffBaseMs))
    .option('--backoff-max-ms <ms>', 'longest backoff', String(DEFAULT_RETRY_POLICY.backoffMaxMs))
    .option('--min-interval-ms <ms>', 'per-dialog rate limit: at least this long between NOTIFYs of one dialog (0 = off)', '0')
    .option(
      '--udp-max-bytes <n>',
      'a NOTIFY larger than this goes over TCP, and over UDP again if TCP is refused or times out (RFC 3261 §18.1.1; default PRESENCE_NOTIFY_UDP_MAX_BYTES, 1300)',
    )
    .option('--concurrency <n>', 'concurrent SIP transactions over all dialogs', '256')
    .option(
      '--coalesce',
      'RFC 6665 rate control: a queued NOTIFY superseded by a newer one of its dialog is skipped (reported superseded); group NOTIFYs never',
    )
    .option('--max-queued-per-dialog <n>', 'without --coalesce: queued NOTIFYs per dialog before the oldest is superseded', '64')
    .option('--max-pending <n>', 'unfinished NOTIFYs before the partitions are paused (polling goes on)', '10000')
    .option('--max-poll-interval-ms <ms>', 'librdkafka max.poll.interval.ms (default 300000)')
    .option('--group-id <id>', 'consumer group (default <prefix>notify-sink)')
    .addOption(memberIdOption('notify-sink', 'static membership: a restarted sink takes back exactly its partitions', 'PRESENCE_NOTIFY_SINK_MEMBER_ID'))
    .addOption(memberIndexOption())
    .option('--dynamic', 'dynamic membership instead of static')
    .option('--stats-interval <s>', 'seconds between stats lines', '10')
    .option(
      '--max-outage-s <s>',
      'stop (with the reason, nothing discarded) after this many seconds of failing to decode (registry) or report (broker); 0 retries on (default PRESENCE_NOTIFY_SINK_MAX_OUTAGE_S or 0)',
    )
    .option('--verbose', 'log every outcome (the log level becomes debug: outcomes name watchers)')
    .option(
      '--tls-ca <file>',
      "NOTIFYs to sips:/transport=tls Contacts: verify watchers' certificates against this CA (e.g. a test CA) instead of the system's roots (default PRESENCE_NOTIFY_TLS_CA_FILE)",
    )
    .option('--tls-cert <file>', 'client certificate presented to watchers that ask for one (default PRESENCE_NOTIFY_TLS_CERT_FILE)')
    .option('--tls-key <file>', 'its private key (default PRESENCE_NOTIFY_TLS_KEY_FILE)')
    .action(async (opts: Opts) => {
      const port = whole('--port', opts.port);
      if (port > 65535) throw new Error(`--port must be 0-65535, not ${port}`);
      const loaded = loadSettings();
      if (opts.verbose) process.env.PRESENCE_LOG_LEVEL = 'debug';
      say.start();
      const t = loaded.notifySink.tls;
      // Flags over env/config; notifySinkTls (config/sipTlsFiles.ts) reads the files when the sink starts.
      const s = {
        ...loaded,
        notifySink: {
          ...loaded.notifySink,
          tls: { ...t, caFile: opts.tlsCa ?? t.caFile, certFile: opts.tlsCert ?? t.certFile, keyFile: opts.tlsKey ?? t.keyFile },
        },
      };
      // Up before Kafka is reached: /readyz says "starting" meanwhile.
      const state: { sink?: NotifySink; failed?: string } = {};
      const metrics = new MetricsRegistry();
      const admin = await startAdminFor(s, 'notifySink', opts, {
        metrics,
        ready: () => notifySinkReadiness(state.sink),
        live: () => (state.failed ? { ok: false, reason: state.failed } : { ok: true }),
        log: say,
      });
      const sink = await startNotifySink(s, {
        host: opts.host,
        port,
        ...(opts.advertise ? { advertiseHost: opts.advertise } : {}),
        ...(opts.contact ? { contact: opts.contact } : {}),
        t1Ms: whole('--t1-ms', opts.t1Ms, 1),
        retry: {
          maxAttempts: whole('--max-attempts', opts.maxAttempts, 1),
          unansweredMaxAttempts: whole('--unanswered-max-attempts', opts.unansweredMaxAttempts, 1),
          backoffBaseMs: whole('--backoff-ms', opts.backoffMs),
          backoffMaxMs: whole('--backoff-max-ms', opts.backoffMaxMs),
        },
        minIntervalMs: whole('--min-interval-ms', opts.minIntervalMs),
        maxConcurrent: whole('--concurrency', opts.concurrency, 1),
        coalesce: opts.coalesce === true,
        maxQueuedPerDialog: whole('--max-queued-per-dialog', opts.maxQueuedPerDialog, 1),
        maxPending: whole('--max-pending', opts.maxPending, 1),
        ...(opts.maxPollIntervalMs !== undefined ? { maxPollIntervalMs: whole('--max-poll-interval-ms', opts.maxPollIntervalMs, 1) } : {}),
        ...(opts.udpMaxBytes !== undefined ? { udpMaxRequestBytes: whole('--udp-max-bytes', opts.udpMaxBytes, 1) } : {}),
        ...(opts.groupId ? { groupId: opts.groupId } : {}),
        memberId: memberIdOf('notify-sink', opts.memberId, opts.memberIndex),
        ...(opts.dynamic ? { dynamic: true } : {}),
        ...(opts.maxOutageS !== undefined ? { maxOutageMs: whole('--max-outage-s', opts.maxOutageS) * 1000 } : {}),
        // Per-NOTIFY outcomes name watchers: debug only (--verbose turns it on).
        log: (line) => (/^NOTIFY /.test(line) ? say.logger().debug(line) : say(line)),
      }).catch(async (err: unknown) => {
        await admin?.close();
        throw err;
      });
      state.sink = sink;
      registerNotifySinkMetrics(metrics, sink);
      sink.done().catch((err: Error) => (state.failed = `the notify sink stopped: ${err.message}`));
      say(
        `notify sink on ${opts.host}:${sink.port} (UDP+TCP; TLS out, verified against ${s.notifySink.tls.caFile ?? 'the system roots'}), reading ${sink.inputTopic} at ${s.kafka.brokers}`,
      );
      const timer = setInterval(() => say(sink.statsLine()), whole('--stats-interval', opts.statsInterval, 1) * 1000);
      const { ended, failure } = await untilStopped(sink.done());
      clearInterval(timer);
      say(`stopping (${ended}); ${sink.statsLine()}`);
      await sink.stop();
      await admin?.close();
      if (failure) throw failure;
    });
}
