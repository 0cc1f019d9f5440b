// `presence run call-handling`: the SIP redirect server of call-handling
// decisions (issue 16 part 5, services/call-handling/). It keeps a live view of
// the members' reports (who owns which partition, their member API URL) and
// asks the owner of each callee; it never proxies.
// Registered under `presence run` (after registerRunCommands).
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings.ts';
import { sipTlsOnPort } from '../../config/sipTlsFiles.ts';
import { MemberReportsView } from '../../coordinator/memberReportsReader.ts';
import { directoryResolver } from '../../front-end/sipFrontEnd.ts';
import { CallHandlingServer } from '../../services/call-handling/callHandlingServer.ts';
import { OwnerDecisions } from '../../services/call-handling/ownerDecisions.ts';
import { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { commandLog } from '../logger.ts';
import { untilSignal } from './run.ts';
import { flagsFromSettings, whole } from './flagSettings.ts';
import { addAdminOptions, startAdminFor } from './adminPort.ts';
import { MetricsRegistry } from '../../protocols/http/metrics.ts';
import { callHandlingReadiness, registerCallHandlingMetrics } from '../../services/call-handling/callHandlingMetrics.ts';
import { addRedirectOptions, callHandlingEdge, redirectOptionsOf, type RedirectFlags } from './callHandlingOptions.ts';

const say = commandLog('call-handling', loadSettings);

interface Opts extends RedirectFlags {
  port: string;
  host: string;
  ownerTimeoutMs: string;
  directory: boolean;
  statsInterval: string;
  adminPort?: string;
  adminHost?: string;
  tlsPort?: string;
}

export function registerCallHandlingCommand(program: Command): void {
  const run = program.commands.find((c) => c.name() === 'run') ?? program.command('run').description('run a pipeline component until interrupted');
  const cmd = run.command('call-handling');
  addAdminOptions(cmd, 'callHandling');
  flagsFromSettings(cmd, (s) => s.roles.callHandling);
  cmd
    .description(
      'SIP redirect server of call-handling decisions: an INVITE or MESSAGE is answered 302 (Contact: forward target, registered contacts, voicemail), 486 busy, 480 unavailable or 603 declined, as the callee’s owning event manager decides (its member API, scope calls:decide); never proxied',
    )
    .option('--port <port>', 'SIP port, UDP and TCP (default PRESENCE_CALL_HANDLING_PORT or 5065)')
    .option('--host <addr>', 'address to listen on (default PRESENCE_CALL_HANDLING_HOST or 127.0.0.1)')
    .option(
      '--tls-port <port>',
      'also SIP over TLS on this port, with the PRESENCE_SIP_TLS_* certificate (mutual TLS with PRESENCE_SIP_TLS_CLIENT_CA_FILE); default PRESENCE_CALL_HANDLING_TLS_PORT or none',
    );
  addRedirectOptions(cmd)
    .option('--owner-timeout-ms <ms>', 'how long the owning event manager may take to decide before the answer is 503 + Retry-After', '250')
    .option('--no-directory', 'key callees by their URI only, without the subscriber directory')
    .option('--stats-interval <s>', 'seconds between stats lines', '30')
    .action(async (opts: Opts) => {
      const port = whole('--port', opts.port);
      if (port > 65535) throw new Error(`--port must be 0-65535, not ${opts.port}`);
      const timeoutMs = whole('--owner-timeout-ms', opts.ownerTimeoutMs, 1);
      const answers = redirectOptionsOf(opts);
      const s = loadSettings();
      const tlsPort = opts.tlsPort === undefined ? undefined : whole('--tls-port', opts.tlsPort);
      if (tlsPort !== undefined && tlsPort > 65535) throw new Error(`--tls-port must be 0-65535, not ${opts.tlsPort}`);
      // Certificate files read (and a missing one refused) before anything starts.
      const tls = tlsPort === undefined ? undefined : sipTlsOnPort(s, tlsPort, '--tls-port (PRESENCE_CALL_HANDLING_TLS_PORT)');
      say.start();
      let server: CallHandlingServer | undefined;
      const metrics = new MetricsRegistry();
      const ready = callHandlingReadiness(() => server);
      registerCallHandlingMetrics(metrics, () => server, ready);
      const admin = await startAdminFor(s, 'callHandling', opts, { metrics, ready, log: say });
      const directory = opts.directory ? new SubscriberDirectory(s.database.url) : undefined;
      const view = await MemberReportsView.open(s, { follow: true, log: say }).catch(async (err: unknown) => {
        await admin?.close();
        await directory?.close();
        throw err;
      });
      const owners = new OwnerDecisions(view, { timeoutMs, tls: s.http.client, ...(s.http.token ? { token: s.http.token } : {}) });
      try {
        await directory?.migrate();
        server = await CallHandlingServer.start({
          host: opts.host,
          port,
          owners,
          resolveKey: directoryResolver(s, directory),
          ...answers,
          ...callHandlingEdge(s),
          ...(tls ? { tls } : {}),
        });
        const srv = server;
        say(
          `call-handling redirect server listening on ${opts.host}:${srv.port} (UDP+TCP${srv.tlsPort ? `, TLS on ${srv.tlsPort}` : ''}); owners from ${s.topics.prefix}event-manager-members`,
        );
        const statsLine = () => {
          const st = srv.stats;
          const p = st.decisionSeconds.quantileBound(0.99);
          return `requests ${JSON.stringify(st.requests)}, responses ${JSON.stringify(st.responses)}, decisions ${JSON.stringify(st.decisions)}, owner failures ${JSON.stringify(st.ownerFailures)}${p !== undefined ? `, p99 ≤ ${(p * 1000).toFixed(1)} ms` : ''}`;
        };
        const timer = setInterval(() => say(statsLine()), whole('--stats-interval', opts.statsInterval, 1) * 1000);
        const sig = await untilSignal();
        clearInterval(timer);
        say(`stopping (${sig}); ${statsLine()}`);
      } finally {
        await server?.stop();
        owners.close();
        await view.close();
        await directory?.close();
        await admin?.close();
      }
    });
}
