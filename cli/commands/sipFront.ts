// `presence run sip-front`: the stateless SIP front end of the Pw interface.
// Registered under `presence run` (after registerRunCommands).
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings.ts';
import { DEFAULT_MAX_IN_FLIGHT, startSipFrontEnd } from '../../front-end/sipFrontEnd.ts';
import { checkExpiryPolicy } from '../../front-end/handlerContext.ts';
import { parseFrontEndMode } from '../../front-end/routingMode.ts';
import { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { untilSignal } from './run.ts';
import { commandLog } from '../logger.ts';
import { MetricsRegistry } from '../../protocols/http/metrics.ts';
import { registerSipFrontEndMetrics, sipFrontEndReadiness } from '../../front-end/sipFrontEndMetrics.ts';
import type { SipFrontEnd } from '../../front-end/sipFrontEnd.ts';
import { addAdminOptions, startAdminFor } from './adminPort.ts';
import { flagsFromSettings } from './flagSettings.ts';
import { superviseWorkers, workerIndex } from './workerPool.ts';

const say = commandLog('sip-front', loadSettings);

function seconds(name: string, v: string): number {
  if (!/^\d+$/.test(v)) throw new Error(`${name} must be a whole number of seconds, not ${v}`);
  return Number(v);
}

interface Opts {
  port: string;
  host: string;
  minExpires: string;
  maxExpires: string;
  defaultExpires: string;
  frontEndId?: string;
  publishTimeoutMs?: string;
  maxInFlight: string;
  directory: boolean;
  groups: boolean;
  statsInterval: string;
  mode?: string;
  advertisedHost?: string;
  flows: boolean;
  tlsPort?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  adminPort?: string;
  adminHost?: string;
  workers: string;
}

export function registerSipFrontCommand(program: Command): void {
  const run = program.commands.find((c) => c.name() === 'run') ?? program.command('run').description('run a pipeline component until interrupted');
  const cmd = run.command('sip-front');
  addAdminOptions(cmd, 'sipFront');
  flagsFromSettings(cmd, (s) => ({
    ...s.roles.sipFront,
    mode: s.frontEnd.mode,
    publishTimeoutMs: s.frontEnd.publishTimeoutMs,
    tlsCert: s.frontEnd.tls.certFile,
    tlsKey: s.frontEnd.tls.keyFile,
    tlsPort: s.frontEnd.tls.port,
    tlsClientCa: s.frontEnd.tls.clientCaFile,
  }));
  cmd
    .description(
      "answer watchers' SUBSCRIBEs (RFC 6665/3856) and record them on the subscriptions topic for the owning event manager; answer handsets' PUBLISHes (RFC 3903) through that event manager (publish-requests → publish-responses)",
    )
    .option('--port <port>', 'SIP port (UDP and TCP) (default PRESENCE_SIP_FRONT_PORT or 5060)')
    .option('--host <addr>', 'address to listen on (default PRESENCE_SIP_FRONT_HOST or 127.0.0.1)')
    .option('--min-expires <s>', 'shortest subscription accepted (shorter: 423 Interval Too Brief)', '60')
    .option('--max-expires <s>', 'longest subscription granted (longer requests are shortened)', '7200')
    .option('--default-expires <s>', 'granted when a SUBSCRIBE has no Expires', '3600')
    .option('--front-end-id <id>', 'id recorded with each subscription; default host-pid')
    .option(
      '--publish-timeout-ms <ms>',
      "wait this long for the owning event manager's answer to a PUBLISH, then 500 + Retry-After (default PRESENCE_PUBLISH_TIMEOUT_MS, 8000)",
    )
    .option(
      '--max-in-flight <n>',
      'requests waiting for Kafka (SUBSCRIBEs being recorded, PUBLISHes awaiting their event manager) at once; past it 503 + Retry-After',
      String(DEFAULT_MAX_IN_FLIGHT),
    )
    .option('--no-directory', 'key presentities by their URI only, without the subscriber directory')
    .option('--no-groups', 'do not read the groups topic: group URIs are then treated like any presentity URI')
    .option('--stats-interval <s>', 'seconds between stats lines', '10')
    .option(
      '--workers <n>',
      'processes sharing the SIP ports (node:cluster), one per core to spare; worker i gets front-end id <id>-w<i> and admin port --admin-port + i - 1',
      '1',
    )
    .option(
      '--mode <mode>',
      "stateless (record SUBSCRIBEs on Kafka), redirect (302 to the owning event manager's SIP contact) or proxy (forward to it, RFC 3261 §16.11); default PRESENCE_FRONT_END_MODE or stateless",
    )
    .option(
      '--advertised-host <host>',
      'host put in our Via (proxy) when the listening address is not reachable as such (default PRESENCE_SIP_FRONT_ADVERTISED_HOST)',
    )
    .option('--no-flows', "do not relay NOTIFYs over the watcher's own flow (NAT): the sink then sends them straight to the Contact")
    .option('--tls-cert <file>', 'PEM certificate chain: turns on SIP over TLS (default PRESENCE_SIP_TLS_CERT_FILE; `presence stack certs` makes a test one)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert (default PRESENCE_SIP_TLS_KEY_FILE)')
    .option('--tls-port <port>', 'TLS listener port (default PRESENCE_SIP_TLS_PORT or 5061)')
    .option('--tls-client-ca <file>', 'require client certificates signed by this CA (mutual TLS; default PRESENCE_SIP_TLS_CLIENT_CA_FILE)')
    .action(async (opts: Opts) => {
      const workers = Number(opts.workers);
      if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new Error(`--workers must be a whole number from 1 to 64, not ${opts.workers}`);
      const index = workerIndex();
      if (workers > 1 && index === undefined) {
        say.start();
        process.exitCode = await superviseWorkers(workers, say);
        return;
      }
      if (index !== undefined) {
        // Distinct ids: each worker waits for the PublishResponses addressed to it.
        if (opts.frontEndId) opts.frontEndId = `${opts.frontEndId}-w${index}`;
        if (opts.adminPort !== undefined && Number(opts.adminPort) > 0) opts.adminPort = String(Number(opts.adminPort) + index - 1);
      }
      const port = seconds('--port', opts.port);
      if (port > 65535) throw new Error(`--port must be 0-65535, not ${port}`);
      const policy = checkExpiryPolicy({
        minExpires: seconds('--min-expires', opts.minExpires),
        maxExpires: seconds('--max-expires', opts.maxExpires),
        defaultExpires: seconds('--default-expires', opts.defaultExpires),
      });
      const loaded = loadSettings();
      say.start();
      const t = loaded.frontEnd.tls;
      const tlsPort = opts.tlsPort === undefined ? t.port : seconds('--tls-port', opts.tlsPort);
      if (tlsPort > 65535) throw new Error(`--tls-port must be 0-65535, not ${tlsPort}`);
      // Flags over env/config, as everywhere: frontEndTls (config/sipTlsFiles.ts) reads the files when the front end starts.
      const s = {
        ...loaded,
        frontEnd: {
          ...loaded.frontEnd,
          tls: {
            port: tlsPort,
            certFile: opts.tlsCert ?? t.certFile,
            keyPassphrase: t.keyPassphrase,
            keyFile: opts.tlsKey ?? t.keyFile,
            clientCaFile: opts.tlsClientCa ?? t.clientCaFile,
          },
        },
      };
      const mode = parseFrontEndMode(opts.mode ?? s.frontEnd.mode);
      const state: { fe?: SipFrontEnd } = {};
      const metrics = new MetricsRegistry();
      const admin = await startAdminFor(s, 'sipFront', opts, { metrics, ready: () => sipFrontEndReadiness(state.fe), log: say });
      const directory = opts.directory ? new SubscriberDirectory(s.database.url) : undefined;
      try {
        await directory?.migrate();
        const publishTimeoutMs = Number(opts.publishTimeoutMs ?? s.frontEnd.publishTimeoutMs);
        if (!Number.isInteger(publishTimeoutMs) || publishTimeoutMs < 1 || publishTimeoutMs >= 32_000) {
          throw new Error(
            `--publish-timeout-ms must be a whole number of ms from 1 to 31999 (below SIP Timer F), not ${opts.publishTimeoutMs ?? publishTimeoutMs}`,
          );
        }
        const maxInFlight = Number(opts.maxInFlight);
        if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new Error(`--max-in-flight must be a whole number from 1, not ${opts.maxInFlight}`);
        const fe = await startSipFrontEnd(s, {
          host: opts.host,
          port,
          policy,
          publishTimeoutMs,
          maxInFlight,
          ...(opts.frontEndId ? { frontEndId: opts.frontEndId } : {}),
          ...(directory ? { directory } : {}),
          groups: opts.groups,
          flows: opts.flows,
          mode,
          ...(opts.advertisedHost ? { advertisedHost: opts.advertisedHost } : {}),
          // Listening before Kafka answers: OPTIONS and new requests get 503 until it does (stateless mode).
          serveBeforeReady: true,
          log: say,
        });
        state.fe = fe;
        registerSipFrontEndMetrics(metrics, fe);
        say(
          `SIP front end ${fe.frontEndId} (${mode} mode) listening on ${opts.host}:${fe.port} (UDP+TCP)` +
            `${fe.tlsPort ? `, TLS on ${fe.tlsPort}${s.frontEnd.tls.clientCaFile ? ' (client certificates required)' : ''}` : ', no TLS'}, expires ${policy.minExpires}-${policy.maxExpires} s (default ${policy.defaultExpires}), ` +
            `subscriptions to ${s.topics.prefix}subscriptions at ${s.kafka.brokers}${directory ? '' : ', no directory'}` +
            (fe.notReadyReason ? `; answering 503 until ready (${fe.notReadyReason})` : ''),
        );
        const timer = setInterval(() => say(fe.statsLine()), seconds('--stats-interval', opts.statsInterval) * 1000);
        const sig = await untilSignal();
        clearInterval(timer);
        say(`stopping (${sig}); ${fe.statsLine()}`);
        await fe.stop();
      } finally {
        await directory?.close();
        await admin?.close();
      }
    });
}
