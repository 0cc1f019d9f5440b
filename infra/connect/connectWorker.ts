// The embedded Kafka Connect worker (`presence stack up --with-connect`):
// Apache Kafka's connect-distributed, assembled from Maven Central by
// infra/connect/pom.xml, with the Debezium JDBC sink, the Debezium PostgreSQL
// source and Apicurio's Avro converter on plugin.path. Distributed mode even
// for one worker: connector configs and offsets live in Kafka topics, so
// `presence connect apply` works the same against an operator's cluster.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { projectRoot, type Settings } from '../../config/settings.ts';
import { javaClientSecurity, javaProperties } from '../../kafka/kafkaSecurity.ts';
import { mark, marked, mvn } from '../local/artifacts.ts';
import { portOpen } from '../local/kafkaBroker.ts';
import { findJava } from '../local/javaRuntime.ts';
import { type ManagedProcess, runningPid, startDetached, stopProcess, waitUntilReady } from '../local/processes.ts';

const run = promisify(execFile);
const pom = path.join(projectRoot, 'infra/connect/pom.xml');

/** The plugin versions assembled (kept in the marker, so a change re-assembles). */
const CONNECT_PLUGINS = { debezium: '3.6.0.Final', apicurioConverter: '2.6.13.Final' } as const;

export function connectProcess(s: Settings): ManagedProcess {
  return { name: 'kafka-connect', pidFile: path.join(s.home, 'run', 'connect.pid'), logFile: path.join(s.home, 'logs', 'connect.log') };
}

/** REST base URL of the worker the CLI talks to. */
export function connectUrl(s: Settings): string {
  return s.connect?.url ?? `http://127.0.0.1:${connectPort(s)}`;
}

/** Port of the embedded worker's REST API (PRESENCE_CONNECT_PORT, default 8083). */
function connectPort(s: Settings): number {
  return s.connect?.port ?? 8083;
}

/** True when the worker's REST API answers and lists its plugins. */
export async function connectAnswers(url: string): Promise<boolean> {
  const res = await fetch(`${url}/connector-plugins`, { signal: AbortSignal.timeout(2000) });
  return res.ok;
}

/** Worker classpath (connect-runtime and friends) and plugin.path, assembled once into the home. */
async function connectArtifacts(s: Settings, log: (line: string) => void): Promise<{ classpath: string; pluginPath: string }> {
  const classpath = path.join(s.home, 'lib', `connect-${s.kafka.version}`);
  if (!marked(classpath, s.kafka.version)) {
    log(`assembling Kafka Connect ${s.kafka.version} from Maven Central into ${classpath} (once)`);
    rmSync(classpath, { recursive: true, force: true });
    mkdirSync(classpath, { recursive: true });
    await mvn(
      ['-Pworker', 'dependency:copy-dependencies', `-Dkafka.version=${s.kafka.version}`, `-DoutputDirectory=${classpath}`, '-DincludeScope=runtime'],
      `Kafka Connect ${s.kafka.version}`,
      pom,
    );
    // The log4j2 binding needs slf4j 2.x, which the pom adds; drop the 1.7 that kafka-clients declares.
    for (const f of readdirSync(classpath)) if (/^slf4j-api-1\./.test(f)) rmSync(path.join(classpath, f));
    mark(classpath, s.kafka.version);
  }
  const pluginPath = path.join(s.home, 'lib', 'connect-plugins');
  const pluginsVersion = `${CONNECT_PLUGINS.debezium}+${CONNECT_PLUGINS.apicurioConverter}`;
  if (!marked(pluginPath, pluginsVersion)) {
    log(
      `assembling Connect plugins (Debezium ${CONNECT_PLUGINS.debezium} JDBC sink and PostgreSQL source, Apicurio ${CONNECT_PLUGINS.apicurioConverter} Avro converter) into ${pluginPath} (once)`,
    );
    rmSync(pluginPath, { recursive: true, force: true });
    mkdirSync(pluginPath, { recursive: true });
    await mvn(
      ['dependency:unpack@debezium', '-Dmdep.overWriteReleases=true', `-Ddebezium.version=${CONNECT_PLUGINS.debezium}`, `-DoutputDirectory=${pluginPath}`],
      `Debezium ${CONNECT_PLUGINS.debezium} plugins`,
      pom,
    );
    // Connect's own API classes come from the worker; a plugin's copy is never loaded, so leave it out.
    await mvn(
      [
        '-Pconverter',
        'dependency:copy-dependencies',
        `-Dapicurio.converter.version=${CONNECT_PLUGINS.apicurioConverter}`,
        `-DoutputDirectory=${path.join(pluginPath, 'apicurio-converter')}`,
        '-DincludeScope=runtime',
        '-DexcludeGroupIds=org.apache.kafka',
      ],
      `Apicurio converter ${CONNECT_PLUGINS.apicurioConverter}`,
      pom,
    );
    await addServiceManifest(path.join(pluginPath, 'apicurio-converter'), ['io.apicurio.registry.utils.converter.AvroConverter']);
    mark(pluginPath, pluginsVersion);
  }
  return { classpath, pluginPath };
}

/**
 * Debezium's jars declare their plugins for Java's ServiceLoader; Apicurio's
 * converter does not. A small jar with that declaration lets the worker use
 * plugin.discovery=service_load instead of scanning every class of every
 * plugin jar, which took most of a minute of start-up on two cores.
 */
async function addServiceManifest(dir: string, converters: string[]): Promise<void> {
  const work = path.join(dir, '.manifest');
  mkdirSync(path.join(work, 'META-INF', 'services'), { recursive: true });
  writeFileSync(path.join(work, 'META-INF', 'services', 'org.apache.kafka.connect.storage.Converter'), `${converters.join('\n')}\n`);
  const jar = path.join(path.dirname(findJava(17, undefined, 'Kafka Connect')), 'jar');
  if (!existsSync(jar)) throw new Error(`${jar} is missing: a full JDK (not a JRE) is needed to assemble the Connect plugins`);
  await run(jar, ['cf', path.join(dir, 'presence-service-manifest.jar'), '-C', work, 'META-INF']);
  rmSync(work, { recursive: true, force: true });
}

/** Internal topics and group of the worker, under the topic prefix so two deployments on one cluster do not mix. */
function workerNames(prefix: string): { group: string; configs: string; offsets: string; status: string } {
  return { group: `${prefix}connect`, configs: `${prefix}connect-configs`, offsets: `${prefix}connect-offsets`, status: `${prefix}connect-status` };
}

function workerProperties(s: Settings, pluginPath: string, port: number): string {
  const n = workerNames(s.topics.prefix);
  const rf = s.topics.replicationFactor;
  return `# Written by presence stack up --with-connect; edits are overwritten.
bootstrap.servers=${s.kafka.brokers}
group.id=${n.group}
config.storage.topic=${n.configs}
offset.storage.topic=${n.offsets}
status.storage.topic=${n.status}
config.storage.replication.factor=${rf}
offset.storage.replication.factor=${rf}
status.storage.replication.factor=${rf}
offset.storage.partitions=5
status.storage.partitions=1
# Our keys are plain UTF-8 strings; values Avro (each connector names its converter).
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
listeners=http://127.0.0.1:${port}
rest.advertised.host.name=127.0.0.1
rest.advertised.port=${port}
plugin.path=${pluginPath}
# Every plugin on our path declares itself (see addServiceManifest): no class scanning at start-up.
plugin.discovery=service_load
offset.flush.interval.ms=2000
# One worker: rebalance at once instead of waiting for a departed member.
scheduled.rebalance.max.delay.ms=0
# The brokers' security settings (PRESENCE_KAFKA_*), for the worker's own clients and,
# prefixed, the producers, consumers and admin clients of its connectors.
${javaProperties(javaClientSecurity(s.kafka.security), ['', 'producer.', 'consumer.', 'admin.'])}
`;
}

// Properties format: the YAML one needs jackson-dataformat-yaml, which Connect's classpath lacks.
const LOG4J2 = `status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.out.ref = STDOUT
logger.connect.name = org.apache.kafka.connect
logger.connect.level = INFO
logger.debezium.name = io.debezium
logger.debezium.level = INFO
logger.reflections.name = org.reflections
logger.reflections.level = ERROR
logger.hibernate.name = org.hibernate
logger.hibernate.level = WARN
`;

/** Starts the worker if it is not running; resolves when its REST API lists plugins. */
export async function startConnectWorker(
  s: Settings,
  log: (line: string) => void,
): Promise<{ pid: number; readyMs: number; alreadyRunning: boolean; url: string }> {
  const p = connectProcess(s);
  const port = connectPort(s);
  const url = `http://127.0.0.1:${port}`;
  const existing = runningPid(p);
  if (existing !== undefined) return { pid: existing, readyMs: 0, alreadyRunning: true, url };
  if (await portOpen(port))
    throw new Error(`port ${port} is taken by another process; set PRESENCE_CONNECT_PORT, or PRESENCE_CONNECT_URL to use that Connect cluster`);
  const java = findJava(17, undefined, 'Kafka Connect');
  const { classpath, pluginPath } = await connectArtifacts(s, log);
  const base = path.join(s.home, 'connect');
  mkdirSync(base, { recursive: true });
  const props = path.join(base, 'connect-distributed.properties');
  const log4j = path.join(base, 'log4j2.properties');
  const sec = s.kafka.security;
  const oidcUrl = sec.protocol.startsWith('SASL_') && sec.saslMechanism === 'OAUTHBEARER' ? sec.oauthbearer['sasl.oauthbearer.token.endpoint.url'] : undefined;
  // It may hold the Kafka password: readable by us only.
  writeFileSync(props, workerProperties(s, pluginPath, port), { mode: 0o600 });
  chmodSync(props, 0o600);
  writeFileSync(log4j, LOG4J2);
  const pid = startDetached(p, java, [
    '-Xms128m',
    '-Xmx512m',
    '-XX:+UseG1GC',
    '-XX:CICompilerCount=2',
    '-XX:ParallelGCThreads=2',
    '-XX:ConcGCThreads=1',
    '-Djava.awt.headless=true',
    `-Djava.io.tmpdir=${base}`,
    `-Dlog4j2.configurationFile=${log4j}`,
    // Kafka 4 Java clients fetch OAUTHBEARER tokens only from URLs allowed by this property (empty: none).
    ...(oidcUrl ? [`-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=${oidcUrl}`] : []),
    '-cp',
    `${classpath}/*`,
    'org.apache.kafka.connect.cli.ConnectDistributed',
    props,
  ]);
  // Plugin scanning of a few hundred jars dominates start-up on two cores.
  const readyMs = await waitUntilReady(p, pid, () => connectAnswers(url), 180_000);
  return { pid, readyMs, alreadyRunning: false, url };
}

export async function stopConnectWorker(s: Settings): Promise<'not running' | 'stopped' | 'killed'> {
  return stopProcess(connectProcess(s), 30_000);
}
