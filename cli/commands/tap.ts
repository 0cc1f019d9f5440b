// `presence tap hep --port P`: live taps that run until interrupted.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings.ts';
import { memberIdOf } from '../../kafka/memberIdentity.ts';
import { memberIdOption, memberIndexOption } from './memberIdOptions.ts';
import { hepTapTls } from '../../config/hepTlsFiles.ts';
import { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { formatHepStats, startHepCollector } from '../../taps/hep/hepCollector.ts';
import { hepInputSpec } from '../../taps/hep/hepInput.ts';
import { untilSignal } from './run.ts';
import { commandLog } from '../logger.ts';
import { MetricsRegistry } from '../../protocols/http/metrics.ts';
import { hepReadiness, registerHepMetrics } from '../../taps/hep/hepMetrics.ts';
import type { HepCollector } from '../../taps/hep/hepCollector.ts';
import { addAdminOptions, startAdminFor } from './adminPort.ts';
import { flagsFromSettings } from './flagSettings.ts';
import { registerImsTapCommands } from './tapIms.ts';

const say = commandLog('hep-tap', loadSettings);

function parsePort(v: string, flag = '--port'): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${flag} must be 0-65535, not ${v}`);
  return n;
}

export function registerTapCommand(program: Command): void {
  const tap = program
    .command('tap')
    .description('live taps: receive mirrored signaling and publish it to Kafka until interrupted (SIGINT/SIGTERM stop cleanly)');

  registerImsTapCommands(tap);

  const hep = tap.command(hepInputSpec.name);
  addAdminOptions(hep, 'hepTap');
  // countryCode '' (no home country) stays unset: the tap then takes the numbering plan from the settings as before.
  flagsFromSettings(hep, (s) => ({
    ...s.roles.hepTap,
    unknown: s.identity.unknownSubscribers,
    countryCode: s.identity.countryCode || undefined,
    tlsPort: s.hep.tls.port,
    tlsCert: s.hep.tls.certFile,
    tlsKey: s.hep.tls.keyFile,
    tlsClientCa: s.hep.tls.clientCaFile,
  }));
  hep
    .description(hepInputSpec.summary)
    .option('--port <p>', `${hepInputSpec.fields.port.description} (required: the flag or PRESENCE_HEP_TAP_PORT)`)
    .option('--host <addr>', `${hepInputSpec.fields.host.description} (default PRESENCE_HEP_TAP_HOST or ${hepInputSpec.fields.host.default})`)
    .addOption(
      memberIdOption(
        'hep-tap',
        'its transactional id, so a restarted tap fences its predecessor and readers do not wait out the transaction it left open',
        'PRESENCE_HEP_TAP_MEMBER_ID',
      ),
    )
    .addOption(memberIndexOption())
    .option(
      '--unknown <policy>',
      'identities not in the subscriber directory: drop (counted) or keep (under their own key); default from PRESENCE_UNKNOWN_SUBSCRIBERS',
    )
    .option('--no-directory', 'do not consult the subscriber directory: every identity is keyed by itself')
    .option('--country-code <cc>', 'home country calling code for national numbers')
    .option('--stats-interval <s>', 'seconds between stats lines on stderr', '10')
    .option('--auth-key-file <path>', 'file holding the HEP3 authentication key every packet must carry (chunk 0x000e); default from PRESENCE_HEP_AUTH_KEY')
    .option(
      '--tls-cert <file>',
      'PEM certificate chain: also listen for HEP over TLS (default PRESENCE_HEP_TLS_CERT_FILE; `presence stack certs` makes a test one)',
    )
    .option('--tls-key <file>', 'PEM private key of --tls-cert (default PRESENCE_HEP_TLS_KEY_FILE)')
    .option('--tls-port <port>', 'HEP over TLS listener port (default PRESENCE_HEP_TLS_PORT or 9061)')
    .option('--tls-client-ca <file>', 'require agent certificates signed by this CA (mutual TLS; default PRESENCE_HEP_TLS_CLIENT_CA_FILE)')
    .action(
      async (opts: {
        port?: string;
        host: string;
        memberId?: string;
        memberIndex: string;
        unknown?: string;
        directory: boolean;
        countryCode?: string;
        statsInterval: string;
        authKeyFile?: string;
        tlsCert?: string;
        tlsKey?: string;
        tlsPort?: string;
        tlsClientCa?: string;
        adminPort?: string;
        adminHost?: string;
      }) => {
        if (opts.port === undefined) throw new Error('tap hep needs a port: --port P or PRESENCE_HEP_TAP_PORT (roles.hepTap.port)');
        const hepPort = parsePort(opts.port);
        const memberId = memberIdOf('hep-tap', opts.memberId, opts.memberIndex);
        const loaded = loadSettings();
        const t = loaded.hep.tls;
        // Flags over env/config, as everywhere: hepTapTls (config/hepTlsFiles.ts) reads the files before anything listens.
        const s = {
          ...loaded,
          hep: {
            ...loaded.hep,
            tls: {
              port: opts.tlsPort === undefined ? t.port : parsePort(opts.tlsPort, '--tls-port'),
              certFile: opts.tlsCert ?? t.certFile,
              keyPassphrase: t.keyPassphrase,
              keyFile: opts.tlsKey ?? t.keyFile,
              clientCaFile: opts.tlsClientCa ?? t.clientCaFile,
            },
          },
        };
        const tls = hepTapTls(s);
        say.start();
        // From a file or the environment, never from argv (visible in ps); trailing newline of the file ignored.
        const authKey = opts.authKeyFile ? readFileSync(opts.authKeyFile, 'utf8').replace(/\r?\n$/, '') : s.hep.authKey;
        const unknown = opts.unknown ?? s.identity.unknownSubscribers;
        if (unknown !== 'drop' && unknown !== 'keep') throw new Error(`--unknown must be drop or keep, not ${unknown}`);
        const interval = Number(opts.statsInterval);
        if (!(interval > 0)) throw new Error(`--stats-interval must be a positive number of seconds, not ${opts.statsInterval}`);
        const directory = opts.directory ? new SubscriberDirectory(s.database.url) : undefined;
        const state: { c?: HepCollector } = {};
        const metrics = new MetricsRegistry();
        const admin = await startAdminFor(s, 'hepTap', opts, { metrics, ready: () => hepReadiness(state.c), log: say });
        try {
          await directory?.migrate();
          let failed: (err: Error) => void = () => {};
          const failure = new Promise<Error>((resolve) => (failed = resolve));
          const c = await startHepCollector(s, {
            port: hepPort,
            host: opts.host,
            clientId: memberId,
            unknown,
            directory,
            countryCode: opts.countryCode,
            ...(authKey ? { authKey } : {}),
            ...(tls ? { tls } : {}),
            onError: (e) => failed(e),
          });
          state.c = c;
          registerHepMetrics(metrics, c);
          say(
            `HEP collector listening on udp+tcp ${c.host}:${c.port}${tls ? `, tls ${c.host}:${c.tlsPort}${tls.clientCa ? ' (client certificates required)' : ''}` : ''}${authKey ? ' (authentication key required)' : ''}, publishing to ${s.kafka.brokers} (topic prefix ${s.topics.prefix}, tap id ${memberId}); UDP receive buffer ${Math.round(c.udpReceiveBufferBytes / 1024)} KiB`,
          );
          const timer = setInterval(() => say(formatHepStats(c.stats)), interval * 1000);
          const ended = await Promise.race([untilSignal(), failure.then((e) => `error: ${e.message}`)]);
          clearInterval(timer);
          say(`stopping (${ended})`);
          const st = await c.stop();
          say(`stopped: ${formatHepStats(st)}`);
          if (st.lastError) process.exitCode = 1;
        } finally {
          await directory?.close();
          await admin?.close();
        }
      },
    );
}
