// Settings for every part of the gateway, in one place. Defaults point at the
// embedded local stack (`presence stack up`); each can be overridden by an
// environment variable or by a JSON config file (PRESENCE_CONFIG, or
// ./presence.config.json when present). Precedence: env > file > default.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface Settings {
  /** Where the local stack keeps downloads, data and logs. */
  home: string;
  kafka: {
    /** Comma-separated bootstrap servers. When `external` is true the stack does not start a broker. */
    brokers: string;
    external: boolean;
    /** Ports of the embedded broker (ignored when external). */
    port: number;
    controllerPort: number;
    version: string;
    heapMb: number;
  };
  registry: {
    /** Base URL of the Confluent-compatible API. */
    url: string;
    external: boolean;
    port: number;
    version: string;
    heapMb: number;
    /** JDK (>= 21) that runs Apicurio 3.x; found under /usr/lib/jvm when unset. */
    javaHome: string | undefined;
  };
  database: {
    /** Admin connection used to create the project's database. */
    adminUrl: string;
    /** The project's own database. */
    url: string;
  };
  identity: {
    /** Home country calling code, for national numbers (e.g. '351'); empty: a national number's digits are used as they are. */
    countryCode: string;
    nationalPrefix: string;
    internationalPrefix: string;
    /** What taps do with identities that are not in the subscriber directory (Tekelec Fig 10). */
    unknownSubscribers: 'drop' | 'keep';
  };
  eventManager: {
    /** Clock of presence timers: 'stream' (the partition's newest event time: deterministic, replay-friendly) or 'wall'. */
    timerClock: 'stream' | 'wall';
    /** What watchers without an authorization rule get. */
    defaultWatcherDecision: 'allow' | 'block' | 'polite-block' | 'confirm';
    /** Seconds between an event manager's reports on event-manager-members (owned partitions, contact, load); stale after 3 intervals. */
    memberReportIntervalS: number;
    /** Watchers' dialogs when their partition moves: 'transparent' (they move along) or 'resubscribe' (terminated;reason=deactivated). */
    handoff: 'transparent' | 'resubscribe';
    /** KIP-848 server-side assignor the event managers ask for: range (default), uniform, or load (by reported load, infra/assignor). */
    assignor: 'range' | 'uniform' | 'load';
  };
  frontEnd: {
    /** How the SIP front end handles an acceptable SUBSCRIBE: record it (stateless), 302 to the owning event manager (redirect), or forward it there (proxy). */
    mode: 'stateless' | 'redirect' | 'proxy';
    /** How long the front end waits for the owning event manager's answer to a PUBLISH before 500 + Retry-After (below SIP Timer F, 32 s). */
    publishTimeoutMs: number;
  };
  notifySink: {
    /** Contact URI of NOTIFYs (where watchers send refresh SUBSCRIBEs): the SIP front end's; unset = the sink's own address. */
    contact: string | undefined;
  };
  topics: {
    prefix: string;
    /** Partitions of every subscriber-keyed topic (they must be co-partitioned). */
    partitions: number;
    replicationFactor: number;
  };
  /** Kafka Connect (`stack up --with-connect`, `presence connect`); optional so hand-built settings need not name it. */
  connect?: {
    /** REST API of the Connect cluster our connectors are applied to. */
    url: string;
    /** Port of the embedded worker's REST API. */
    port: number;
  };
}

type Json = Record<string, unknown>;

const DEFAULTS = {
  kafkaPort: 9092,
  controllerPort: 9093,
  registryPort: 8081,
  kafkaVersion: '4.1.1',
  apicurioVersion: '3.3.3',
} as const;

function readConfigFile(env: NodeJS.ProcessEnv): Json {
  const file = env.PRESENCE_CONFIG ?? path.join(process.cwd(), 'presence.config.json');
  if (!existsSync(file)) {
    if (env.PRESENCE_CONFIG) throw new Error(`PRESENCE_CONFIG points at ${file}, which does not exist`);
    return {};
  }
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Json;
  } catch (err) {
    throw new Error(`config file ${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

function pick(file: Json, dotted: string): unknown {
  let cur: unknown = file;
  for (const part of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Json)[part];
  }
  return cur;
}

function int(name: string, raw: unknown, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`setting ${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

function oneOf<T extends string>(name: string, raw: unknown, allowed: readonly T[], fallback: T): T {
  if (raw === undefined || raw === '') return fallback;
  if (!allowed.includes(raw as T)) throw new Error(`setting ${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw as T;
}

function str(raw: unknown): string | undefined {
  return raw === undefined || raw === null || raw === '' ? undefined : String(raw);
}

/** Loads settings from the environment and the config file. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const file = readConfigFile(env);
  const get = (envName: string, filePath: string): unknown => env[envName] ?? pick(file, filePath);

  const home = path.resolve(str(get('PRESENCE_HOME', 'home')) ?? path.join(projectRoot, '.presence'));
  const kafkaPort = int('PRESENCE_KAFKA_PORT', get('PRESENCE_KAFKA_PORT', 'kafka.port'), DEFAULTS.kafkaPort);
  const externalBrokers = str(get('PRESENCE_KAFKA_BROKERS', 'kafka.brokers'));
  const registryPort = int('PRESENCE_REGISTRY_PORT', get('PRESENCE_REGISTRY_PORT', 'registry.port'), DEFAULTS.registryPort);
  const externalRegistry = str(get('PRESENCE_REGISTRY_URL', 'registry.url'));
  const adminUrl = str(get('PRESENCE_DATABASE_ADMIN_URL', 'database.adminUrl')) ?? 'postgres://postgres@127.0.0.1:5432/postgres';

  return {
    home,
    kafka: {
      brokers: externalBrokers ?? `127.0.0.1:${kafkaPort}`,
      external: externalBrokers !== undefined,
      port: kafkaPort,
      controllerPort: int('PRESENCE_KAFKA_CONTROLLER_PORT', get('PRESENCE_KAFKA_CONTROLLER_PORT', 'kafka.controllerPort'), DEFAULTS.controllerPort),
      version: str(get('PRESENCE_KAFKA_VERSION', 'kafka.version')) ?? DEFAULTS.kafkaVersion,
      heapMb: int('PRESENCE_KAFKA_HEAP_MB', get('PRESENCE_KAFKA_HEAP_MB', 'kafka.heapMb'), 512),
    },
    registry: {
      url: (externalRegistry ?? `http://127.0.0.1:${registryPort}/apis/ccompat/v7`).replace(/\/+$/, ''),
      external: externalRegistry !== undefined,
      port: registryPort,
      version: str(get('PRESENCE_APICURIO_VERSION', 'registry.version')) ?? DEFAULTS.apicurioVersion,
      heapMb: int('PRESENCE_REGISTRY_HEAP_MB', get('PRESENCE_REGISTRY_HEAP_MB', 'registry.heapMb'), 384),
      javaHome: str(get('PRESENCE_REGISTRY_JAVA_HOME', 'registry.javaHome')),
    },
    database: {
      adminUrl,
      url: str(get('PRESENCE_DATABASE_URL', 'database.url')) ?? 'postgres://postgres@127.0.0.1:5432/presence',
    },
    identity: {
      countryCode: str(get('PRESENCE_COUNTRY_CODE', 'identity.countryCode')) ?? '',
      nationalPrefix: str(get('PRESENCE_NATIONAL_PREFIX', 'identity.nationalPrefix')) ?? '0',
      internationalPrefix: str(get('PRESENCE_INTERNATIONAL_PREFIX', 'identity.internationalPrefix')) ?? '00',
      unknownSubscribers: oneOf(
        'PRESENCE_UNKNOWN_SUBSCRIBERS',
        get('PRESENCE_UNKNOWN_SUBSCRIBERS', 'identity.unknownSubscribers'),
        ['drop', 'keep'] as const,
        'drop',
      ),
    },
    eventManager: {
      timerClock: oneOf('PRESENCE_TIMER_CLOCK', get('PRESENCE_TIMER_CLOCK', 'eventManager.timerClock'), ['stream', 'wall'] as const, 'stream'),
      defaultWatcherDecision: oneOf(
        'PRESENCE_DEFAULT_WATCHER_DECISION',
        get('PRESENCE_DEFAULT_WATCHER_DECISION', 'eventManager.defaultWatcherDecision'),
        ['allow', 'block', 'polite-block', 'confirm'] as const,
        'allow',
      ),
      memberReportIntervalS: int('PRESENCE_MEMBER_REPORT_INTERVAL', get('PRESENCE_MEMBER_REPORT_INTERVAL', 'eventManager.memberReportIntervalS'), 5),
      handoff: oneOf('PRESENCE_HANDOFF', get('PRESENCE_HANDOFF', 'eventManager.handoff'), ['transparent', 'resubscribe'] as const, 'transparent'),
      assignor: oneOf('PRESENCE_ASSIGNOR', get('PRESENCE_ASSIGNOR', 'eventManager.assignor'), ['range', 'uniform', 'load'] as const, 'range'),
    },
    frontEnd: {
      mode: oneOf('PRESENCE_FRONT_END_MODE', get('PRESENCE_FRONT_END_MODE', 'frontEnd.mode'), ['stateless', 'redirect', 'proxy'] as const, 'stateless'),
      publishTimeoutMs: int('PRESENCE_PUBLISH_TIMEOUT_MS', get('PRESENCE_PUBLISH_TIMEOUT_MS', 'frontEnd.publishTimeoutMs'), 4000),
    },
    notifySink: {
      contact: str(get('PRESENCE_NOTIFY_CONTACT', 'notifySink.contact')),
    },
    topics: {
      prefix: str(get('PRESENCE_TOPIC_PREFIX', 'topics.prefix')) ?? 'presence.',
      partitions: int('PRESENCE_PARTITIONS', get('PRESENCE_PARTITIONS', 'topics.partitions'), 12),
      replicationFactor: int('PRESENCE_REPLICATION_FACTOR', get('PRESENCE_REPLICATION_FACTOR', 'topics.replicationFactor'), 1),
    },
    connect: (() => {
      const port = int('PRESENCE_CONNECT_PORT', get('PRESENCE_CONNECT_PORT', 'connect.port'), 8083);
      return { port, url: (str(get('PRESENCE_CONNECT_URL', 'connect.url')) ?? `http://127.0.0.1:${port}`).replace(/\/+$/, '') };
    })(),
  };
}

/** One line per setting, for `presence config` and error messages. */
export function describeSettings(s: Settings): string[] {
  return [
    `home            ${s.home}`,
    `kafka           ${s.kafka.brokers}${s.kafka.external ? ' (external)' : ' (local stack)'}`,
    `schema registry ${s.registry.url}${s.registry.external ? ' (external)' : ' (local stack)'}`,
    `database        ${s.database.url}`,
    `identity        country code ${s.identity.countryCode || '(none: national numbers keyed by their digits)'}, unknown subscribers: ${s.identity.unknownSubscribers}`,
    `topics          prefix "${s.topics.prefix}", ${s.topics.partitions} partitions, replication ${s.topics.replicationFactor}`,
  ];
}
