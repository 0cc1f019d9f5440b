// A throwaway Kafka broker of a test's own (same scripts as the local stack,
// other ports and data directory), so a test can kill and restart it while
// the shared stack stays up for the other tests. Its data survives a kill, as
// a real broker's does: start() after kill() restarts on the same log.
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadSettings, type Settings } from '../../config/settings.ts';
import { type BrokerProperties, kafkaProcess, type SaslSslListener, startKafka } from '../../infra/local/kafkaBroker.ts';
import { makeBrokerTls } from '../../infra/local/stackKafkaSecurity.ts';
import { runningPid, stopProcess } from '../../infra/local/processes.ts';
import { brokerAnswers } from '../../kafka/kafkaAdmin.ts';

export interface PrivateBroker {
  /** The shared stack's settings with this broker's address, home and ports. */
  readonly settings: Settings;
  start(): Promise<void>;
  /** SIGKILL: no clean shutdown, as in a crash. */
  kill(): void;
  /** Stops it (if running) and removes its data. */
  remove(): Promise<void>;
}

export interface SaslSslOptions {
  readonly users: SaslSslListener['users'];
  /** Also a mutual-TLS listener (SSL, client certificate required) on port + 3, and a client certificate for it. */
  readonly mutualTls?: boolean;
  /** Also OAUTHBEARER on the SASL_SSL listener, validated against this JWKS (test/support/oidcTokenServer.ts). */
  readonly oauthBearer?: SaslSslListener['oauthBearer'];
  /** Broker settings beyond the stack's own (an authorizer, say). */
  readonly properties?: BrokerProperties;
}

export interface SaslSslBroker extends PrivateBroker {
  /** The throwaway CA that signed the broker's certificate (what clients trust: PRESENCE_KAFKA_SSL_CA_FILE). */
  readonly caFile: string;
  /** With `mutualTls`: a client certificate and key signed by that CA (PRESENCE_KAFKA_SSL_CERT_FILE / _KEY_FILE). */
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
}

/**
 * A private broker whose client port is a SASL_SSL listener: a throwaway CA
 * and a certificate for 127.0.0.1/localhost made on start(), the SCRAM users
 * created at format time. Ports: port (SASL_SSL), port + 1 (controller), port + 2
 * (internal plaintext, inter-broker only). Clients must be given the security
 * settings themselves: `settings` carries the base's.
 */
export function privateSaslSslBroker(name: string, port: number, options: SaslSslOptions, base: Settings = loadSettings()): SaslSslBroker {
  let listener: SaslSslListener | undefined;
  const inner = privateBroker(name, port, base, options.properties ?? {}, async (home) => {
    if (listener) return listener;
    const { caFile, keystorePemFile, ca } = await makeBrokerTls(path.join(home, 'tls'), 'presence test CA');
    if (options.mutualTls) await ca.issue('client', ['presence-client']);
    listener = {
      keystorePemFile,
      caFile,
      users: options.users,
      internalPort: port + 2,
      ...(options.mutualTls ? { mutualTlsPort: port + 3 } : {}),
      ...(options.oauthBearer ? { oauthBearer: options.oauthBearer } : {}),
    };
    return listener;
  });
  const tls = path.join(inner.settings.home, 'tls');
  return { ...inner, caFile: path.join(tls, 'ca.crt'), clientCertFile: path.join(tls, 'client.crt'), clientKeyFile: path.join(tls, 'client.key') };
}

export function privateBroker(
  name: string,
  port: number,
  base: Settings = loadSettings(),
  /** Broker settings beyond the stack's own. */
  properties: BrokerProperties = {},
  listener?: (home: string) => Promise<SaslSslListener>,
): PrivateBroker {
  const home = mkdtempSync(path.join(os.tmpdir(), `presence-${name}-`));
  // Share the downloaded classpath with the main stack: no second download.
  symlinkSync(path.join(base.home, 'lib'), path.join(home, 'lib'));
  const settings: Settings = { ...base, home, kafka: { ...base.kafka, port, controllerPort: port + 1, brokers: `127.0.0.1:${port}`, heapMb: 384 } };
  return {
    settings,
    start: async () => {
      await startKafka(
        settings,
        () => {},
        () => brokerAnswers(settings.kafka.brokers),
        listener ? await listener(home) : undefined,
        properties,
      );
    },
    kill: () => {
      const pid = runningPid(kafkaProcess(settings));
      if (pid === undefined) throw new Error(`private broker ${name} is not running`);
      process.kill(pid, 'SIGKILL');
    },
    remove: async () => {
      await stopProcess(kafkaProcess(settings), 5000).catch(() => {});
      rmSync(home, { recursive: true, force: true });
    },
  };
}
