// The embedded Apache Kafka broker: one combined broker+controller in KRaft
// mode on 127.0.0.1, storage formatted on first start, JVM sized for a
// 2-core machine. Everything lives under <home>/kafka.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { maskedPasswords } from '../../config/secrets.ts';
import { promisify } from 'node:util';
import type { Settings } from '../../config/settings.ts';
import { assignorJvmProperties, BROKER_ASSIGNORS, loadAssignorJar } from '../assignor/loadAssignorJar.ts';
import { kafkaClasspath } from './artifacts.ts';
import { findJava } from './javaRuntime.ts';
import { type ManagedProcess, runningPid, startDetached, waitUntilReady } from './processes.ts';

const run = promisify(execFile);

export function kafkaProcess(s: Settings): ManagedProcess {
  return { name: 'kafka', pidFile: path.join(s.home, 'run', 'kafka.pid'), logFile: path.join(s.home, 'logs', 'kafka.log') };
}

/**
 * A SASL_SSL client listener instead of PLAINTEXT on the broker port (tests of
 * the security settings). SCRAM users are created when the storage is
 * formatted (KRaft keeps them in the metadata log); the broker certificate is
 * a PEM file holding the PKCS#8 key and the certificate, as Kafka's PEM
 * keystore wants. The broker still talks to itself (inter-broker, the
 * assignor's client) and its controller in plaintext on loopback ports of
 * its own: that is not what is under test.
 */
export interface SaslSslListener {
  /** PEM: PKCS#8 private key, then the certificate chain. */
  readonly keystorePemFile: string;
  readonly caFile: string;
  /** SCRAM users are stored at format time; PLAIN users live in the listener's JAAS line (the broker's own file: test use only). */
  readonly users: readonly { mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'PLAIN'; name: string; password: string }[];
  /** Plaintext port for inter-broker traffic (default: controller port + 1). */
  readonly internalPort?: number;
  /** Also an SSL listener here that requires a client certificate signed by caFile (mutual TLS, no SASL). */
  readonly mutualTlsPort?: number;
  /** Also OAUTHBEARER on the SASL_SSL listener: JWTs checked by Kafka's validator against this JWKS (and audience, issuer). */
  readonly oauthBearer?: { readonly jwksUrl: string; readonly audience: string; readonly issuer?: string };
}

function internalPort(s: Settings, l: SaslSslListener): number {
  return l.internalPort ?? s.kafka.controllerPort + 1;
}

function listenerProperties(s: Settings, l: SaslSslListener | undefined): string {
  const { port, controllerPort } = s.kafka;
  if (!l)
    return `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT`;
  const internal = internalPort(s, l);
  const plain = l.users.filter((u) => u.mechanism === 'PLAIN');
  const mtls = l.mutualTlsPort === undefined ? '' : `,MTLS://127.0.0.1:${l.mutualTlsPort}`;
  return `listeners=SASL_SSL://127.0.0.1:${port},INTERNAL://127.0.0.1:${internal},CONTROLLER://127.0.0.1:${controllerPort}${mtls}
advertised.listeners=SASL_SSL://127.0.0.1:${port},INTERNAL://127.0.0.1:${internal}${mtls}
controller.listener.names=CONTROLLER
inter.broker.listener.name=INTERNAL
listener.security.protocol.map=SASL_SSL:SASL_SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT,MTLS:SSL
listener.name.mtls.ssl.client.auth=required${
    plain.length
      ? `\nlistener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${plain.map((u) => `user_${u.name}="${u.password}"`).join(' ')};`
      : ''
  }
sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256${plain.length ? ',PLAIN' : ''}${l.oauthBearer ? ',OAUTHBEARER' : ''}${oauthBearerProperties(l)}
# The server side needs a login module per mechanism, even with no inter-broker SASL.
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PEM
ssl.keystore.location=${l.keystorePemFile}
ssl.truststore.type=PEM
ssl.truststore.location=${l.caFile}
ssl.client.auth=none`;
}

/** Kafka's own JWT validation (KIP-768): signature by the JWKS, exp, audience and issuer; `sub` becomes the principal. */
function oauthBearerProperties(l: SaslSslListener): string {
  const o = l.oauthBearer;
  if (!o) return '';
  return `
listener.name.sasl_ssl.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;
listener.name.sasl_ssl.oauthbearer.sasl.server.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler
# Named explicitly: Kafka 4.1's default (DefaultJwtValidator, built without a key resolver) falls back to
# ClientJwtValidator, which checks claims but not the signature — a token signed by anyone was accepted (measured).
sasl.oauthbearer.jwt.validator.class=org.apache.kafka.common.security.oauthbearer.BrokerJwtValidator
sasl.oauthbearer.jwks.endpoint.url=${o.jwksUrl}
sasl.oauthbearer.expected.audience=${o.audience}${o.issuer ? `\nsasl.oauthbearer.expected.issuer=${o.issuer}` : ''}`;
}

/** Broker settings beyond the stack's own (a test's private broker: e.g. a short retention check interval). */
export type BrokerProperties = Readonly<Record<string, string | number>>;

function serverProperties(s: Settings, dataDir: string, loadAssignor: boolean, listener?: SaslSslListener, extra: BrokerProperties = {}): string {
  const { controllerPort } = s.kafka;
  const extraLines = Object.entries(extra)
    .map(([k, v]) => `${k}=${v}\n`)
    .join('');
  return `# Written by presence stack up; edits are overwritten.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controllerPort}
${listenerProperties(s, listener)}
log.dirs=${dataDir}
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=6
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# A single local node: no reason to wait for more members before the first rebalance.
group.initial.rebalance.delay.ms=0
# KIP-848 session bounds low enough for presence's 6 s session and 1 s heartbeat,
# which members set as group configs (kafka/groupSession.ts); the broker defaults (45 s, 5 s) stay the default.
group.consumer.min.session.timeout.ms=3000
group.consumer.min.heartbeat.interval.ms=500
# Small segments so compaction of changelogs is visible in local runs.
log.segment.bytes=67108864
log.cleaner.dedupe.buffer.size=16777216
num.network.threads=2
num.io.threads=4
${loadAssignor ? `# KIP-848 server-side assignors; "load" (infra/assignor) places event-manager partitions by reported load.\ngroup.consumer.assignors=${BROKER_ASSIGNORS}\n` : ''}${extraLines}`;
}

const LOG4J2 = `Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Logger:
      - name: kafka
        level: INFO
      - name: org.apache.kafka
        level: INFO
      - name: state.change.logger
        level: WARN
      - name: presence.assignor
        level: INFO
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
`;

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/**
 * A cluster id as `kafka-storage random-uuid` makes one (Kafka's Uuid.randomUuid:
 * 16 random bytes, base64url without padding, never starting with "-", which
 * command lines would take for an option) — without starting a JVM for it.
 */
export function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Starts the broker if it is not running; resolves when it serves metadata. */
export async function startKafka(
  s: Settings,
  log: (line: string) => void,
  brokerReady: () => Promise<boolean>,
  listener?: SaslSslListener,
  extra?: BrokerProperties,
): Promise<{ pid: number; readyMs: number; alreadyRunning: boolean }> {
  const p = kafkaProcess(s);
  const existing = runningPid(p);
  if (existing !== undefined) return { pid: existing, readyMs: 0, alreadyRunning: true };
  if (await portOpen(s.kafka.port)) {
    throw new Error(`port ${s.kafka.port} is taken by another process; set PRESENCE_KAFKA_PORT or PRESENCE_KAFKA_BROKERS to use that cluster`);
  }
  const java = findJava(17, undefined, 'Apache Kafka 4');
  const cp = await kafkaClasspath(s.home, s.kafka.version, log);
  // Without the assignor the broker still starts; members asking for "load" then stop with a reason (assignors/brokerAssignors.ts).
  const assignorJar = await loadAssignorJar(s.home, log).catch((err: Error) => {
    log(`load assignor not available, starting the broker without it: ${err.message.split('\n')[0]}`);
    return undefined;
  });
  const base = path.join(s.home, 'kafka');
  const dataDir = path.join(base, 'data');
  const props = path.join(base, 'server.properties');
  const log4j = path.join(base, 'log4j2.yaml');
  mkdirSync(base, { recursive: true });
  writeFileSync(props, serverProperties(s, dataDir, assignorJar !== undefined, listener, extra));
  writeFileSync(log4j, LOG4J2);
  const classpath = assignorJar ? `${cp}/*${path.delimiter}${assignorJar}` : `${cp}/*`;
  if (!existsSync(path.join(dataDir, 'meta.properties'))) {
    log(`formatting Kafka storage in ${dataDir}`);
    // KRaft: SCRAM credentials are metadata records, written at format time (KIP-900).
    const scramArgs = (listener?.users ?? [])
      .filter((u) => u.mechanism !== 'PLAIN')
      .flatMap((u) => ['--add-scram', `${u.mechanism}=[name=${u.name},password=${u.password}]`]);
    const uuid = randomClusterId();
    // Kafka's format takes SCRAM users only on its command line: kept out of error messages at least.
    await run(java, [
      '-cp',
      classpath,
      `-Dlog4j2.configurationFile=${log4j}`,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      uuid,
      '-c',
      props,
      ...scramArgs,
    ]).catch((err: unknown) => {
      throw new Error(maskedPasswords((err as Error).message));
    });
  }
  const heap = s.kafka.heapMb;
  const pid = startDetached(p, java, [
    `-Xms${Math.min(256, heap)}m`,
    `-Xmx${heap}m`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    // Two cores: fewer compiler and GC threads start faster and leave CPU to the tests.
    '-XX:CICompilerCount=2',
    '-XX:ParallelGCThreads=2',
    '-XX:ConcGCThreads=1',
    '-Xshare:auto',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${log4j}`,
    `-Dkafka.logs.dir=${path.join(s.home, 'logs')}`,
    // Kafka 4 fetches JWKS only from URLs listed here (CVE-2025-27817).
    ...(listener?.oauthBearer ? [`-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=${listener.oauthBearer.jwksUrl}`] : []),
    // The assignor's own client has no credentials: behind a SASL_SSL listener it uses the internal plaintext one.
    ...(assignorJar ? assignorJvmProperties(`127.0.0.1:${listener ? internalPort(s, listener) : s.kafka.port}`) : []),
    '-cp',
    classpath,
    'kafka.Kafka',
    props,
  ]);
  const readyMs = await waitUntilReady(p, pid, brokerReady, 90_000);
  return { pid, readyMs, alreadyRunning: false };
}
