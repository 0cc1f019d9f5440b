// Settings for every part of the gateway, in one place. Defaults point at the
// embedded local stack (`presence stack up`); each can be overridden by an
// environment variable or by a JSON config file (PRESENCE_CONFIG, or
// ./presence.config.json when present). Precedence: env > file > default.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { masked, maskedUrl, resolveSecret } from './secrets.ts';

const configDir = path.dirname(fileURLToPath(import.meta.url));
/** The package's root: above config/ in the sources, above dist/config/ in the build (npm run build). */
export const projectRoot = path.basename(path.dirname(configDir)) === 'dist' ? path.resolve(configDir, '../..') : path.resolve(configDir, '..');

export interface Settings {
  /** Where the local stack keeps downloads, data and logs. */
  home: string;
  /** The long-running commands' log (cli/logger.ts). */
  log: { level: 'debug' | 'info' | 'warn' | 'error'; format: 'json' | 'text' | 'auto' };
  kafka: {
    /** Comma-separated bootstrap servers. When `external` is true the stack does not start a broker. */
    brokers: string;
    external: boolean;
    /** Ports of the embedded broker (ignored when external). */
    port: number;
    controllerPort: number;
    version: string;
    heapMb: number;
    /** How every client (node-rdkafka, kafkajs, the wire client, Connect) authenticates to the brokers. */
    security: KafkaSecurity;
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
    /** HTTP basic auth for every registry client; the password is a secret (config/secrets.ts). */
    username: string | undefined;
    password: string | undefined;
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
  /** Every TLS listener (SIP, HTTP APIs, HEP) looks at its certificate files this often and takes a renewed pair without a restart (protocols/tls/certificateReloader.ts); 0: only on SIGHUP. */
  tls: { reloadIntervalS: number };
  http: {
    /** Bearer tokens file of the HTTP APIs (protocols/http/bearerTokens.ts); undefined: the APIs are open (local use only). */
    tokensFile: string | undefined;
    /** Bearer token the CLI presents to our own HTTP APIs (a member's API for presence watchers / locate). */
    token?: string | undefined;
    /** Header size, header and request timeouts, HTTPS certificate and key of every HTTP API (protocols/http/serverLimits.ts). */
    limits: {
      maxHeaderBytes: number;
      headersTimeoutMs: number;
      requestTimeoutMs: number;
      tlsCertFile?: string;
      tlsKeyFile?: string;
      /** Secret: the key file's passphrase when it is encrypted. */
      tlsKeyPassphrase?: string;
      tlsClientCaFile?: string;
      /** tls.reloadIntervalS, where the HTTP servers find it. */
      tlsReloadIntervalS: number;
    };
    /** How this process calls the other members' HTTP APIs (the locator asking an owner): the CA it trusts, and its certificate where they require mutual TLS. */
    client: ApiClientTls;
  };
  /** `presence run location-agent`: the GMLC it asks over OMA MLP 3.x (Le), and how often. */
  locationAgent: {
    /** The GMLC's MLP endpoint, http(s)://; unset: the agent refuses to start. */
    mlpUrl: string | undefined;
    /** MLP <client><id>. */
    clientId: string;
    /** MLP <client><pwd>, a secret (PRESENCE_MLP_PASSWORD or _FILE). */
    password: string | undefined;
    /** Requested horizontal accuracy, meters. */
    accuracyM: number;
    /** Oldest acceptable position when a request names none, seconds (max_loc_age). */
    maxAgeS: number;
    /** At most one query per subscriber this often, seconds (positioning costs the network). */
    minIntervalS: number;
    /** Time budget of one query. */
    timeoutMs: number;
    /** Queries in flight at once. */
    concurrency: number;
    statsInterval: number;
  };
  hep: {
    /** HEP3 authentication key every packet must carry (chunk 0x000e); undefined: not checked. */
    authKey: string | undefined;
    /** HEP over TLS beside UDP/TCP: on when a certificate and key are given (config/hepTlsFiles.ts reads them). */
    tls: {
      port: number;
      certFile: string | undefined;
      keyFile: string | undefined;
      /** Secret: the key file's passphrase when it is encrypted. */
      keyPassphrase: string | undefined;
      /** Require client certificates signed by this CA (mutual TLS); unset: none asked. */
      clientCaFile: string | undefined;
    };
  };
  /**
   * The admin port of each long-running role (/metrics, /livez, /readyz; protocols/http/adminServer.ts).
   * Undefined: off (the default: several members of one host would fight over one fixed port); 0: any free port, logged.
   */
  admin: {
    host: string;
    eventManagerPort: number | undefined;
    sipFrontPort: number | undefined;
    notifySinkPort: number | undefined;
    hepTapPort: number | undefined;
    groupPresencePort: number | undefined;
    groupServicePort: number | undefined;
    availabilityServicePort: number | undefined;
    groupPresenceApiPort: number | undefined;
    locatorPort: number | undefined;
    consolePort: number | undefined;
    locationAgentPort: number | undefined;
    callHandlingPort: number | undefined;
    eventDeriverPort: number | undefined;
    eventServicePort: number | undefined;
    /** librdkafka statistics.interval.ms of every client of a process whose admin port is open (kafka/clientStats.ts); 0: off. */
    kafkaStatisticsIntervalMs: number;
  };
  groupPresence: {
    /** Seconds of outage-failed batches before a group presence processor stops; 0 retries on. */
    maxOutageS: number;
  };
  /**
   * The listening addresses and identities of the long-running commands (`presence run …`, `tap hep`):
   * every one of these flags is also an environment variable and a config-file key; the flag wins.
   * Undefined: the command's own default (a member id from the host name; no embedded SIP front end or member API).
   */
  roles: {
    eventManager: {
      memberId: string | undefined;
      sipPort: number | undefined;
      sipHost: string;
      /** The embedded front end's SIP over TLS port (with sipPort; the SIP certificate settings); undefined: plain only. */
      sipTlsPort: number | undefined;
      apiPort: number | undefined;
      apiHost: string;
      /** The member's own call-handling redirect server (decides its keys from its store); undefined: none. */
      callHandlingPort: number | undefined;
      callHandlingHost: string;
      advertisedHost: string | undefined;
      capacity: number;
      memberIndex: number;
      dynamic: boolean;
      protocol: 'consumer' | 'classic';
      statsInterval: number;
      httpUrl: string | undefined;
      sipDirectory: boolean;
    };
    sipFront: {
      port: number;
      host: string;
      advertisedHost: string | undefined;
      minExpires: number;
      maxExpires: number;
      defaultExpires: number;
      frontEndId: string | undefined;
      maxInFlight: number;
      directory: boolean;
      groups: boolean;
      flows: boolean;
      statsInterval: number;
      /** Processes sharing the listening sockets (node:cluster); 1: this process alone. */
      workers: number;
    };
    notifySink: {
      port: number;
      host: string;
      memberId: string | undefined;
      advertise: string | undefined;
      t1Ms: number;
      maxAttempts: number;
      /** Attempts for a NOTIFY no attempt of which was answered (RFC 6665 §9, §4.2.2). */
      unansweredMaxAttempts: number;
      backoffMs: number;
      backoffMaxMs: number;
      minIntervalMs: number;
      concurrency: number;
      coalesce: boolean;
      maxQueuedPerDialog: number;
      maxPending: number;
      maxPollIntervalMs: number | undefined;
      groupId: string | undefined;
      memberIndex: number;
      dynamic: boolean;
      statsInterval: number;
    };
    groupPresence: { memberId: string | undefined; memberIndex: number; fetchWaitMs: number; statsInterval: number };
    groupService: { port: number; host: string; schema: string; relay: boolean; directory: boolean; maxBody: number; statsInterval: number };
    /** `run availability-service` (issue 16): the profiles API and its outbox relay to availability-profiles. */
    availabilityService: { port: number; host: string; schema: string; relay: boolean; maxBody: number; statsInterval: number };
    groupPresenceApi: { port: number; host: string; schema: string; sink: boolean; directory: boolean; statsInterval: number };
    locator: { port: number; host: string };
    /** `run event-deriver` (issue 17): service events from signaling, presence and profile changes. */
    eventDeriver: { memberId: string | undefined; memberIndex: number; fetchWaitMs: number; maxOutageS: number; statsInterval: number };
    /** `run event-service` (issue 17): registrations, the event log, webhooks, SSE and pull. */
    eventService: { port: number; host: string; schema: string; retentionHours: number; webhookMaxBackoffS: number; statsInterval: number };
    /** `run call-handling`: the SIP redirect server of call-handling decisions (services/call-handling/). */
    callHandling: {
      port: number;
      host: string;
      voicemail: string | undefined;
      ownerTimeoutMs: number;
      directory: boolean;
      assertedIdentity: boolean;
      statsInterval: number;
      /** SIP over TLS on this port beside UDP/TCP (the SIP certificate settings); undefined: none. */
      tlsPort: number | undefined;
    };
    console: { port: number; host: string; directory: boolean; manage: boolean; capturesDir: string | undefined };
    hepTap: { port: number | undefined; host: string; memberId: string | undefined; memberIndex: number; directory: boolean; statsInterval: number };
  };
  eventManager: {
    /** Clock of presence timers: 'stream' (the partition's newest event time: deterministic, replay-friendly) or 'wall'. */
    timerClock: 'stream' | 'wall';
    /** What watchers without an authorization rule get. */
    defaultWatcherDecision: 'allow' | 'allow-presence' | 'block' | 'polite-block' | 'confirm';
    /** Seconds between an event manager's reports on event-manager-members (owned partitions, contact, load); stale after 3 intervals. */
    memberReportIntervalS: number;
    /** Watchers' dialogs when their partition moves: 'transparent' (they move along) or 'resubscribe' (terminated;reason=deactivated). */
    handoff: 'transparent' | 'resubscribe';
    /** KIP-848 server-side assignor the event managers ask for: range (default), uniform, or load (by reported load, infra/assignor). */
    assignor: 'range' | 'uniform' | 'load';
    /** Milliseconds a partition's records wait at most for a co-partitioned input whose end is not known (timestamp order; 0: no wait). */
    maxTaskIdleMs: number;
    /** Records per batch, and so per transaction, at most: larger batches commit less often under a backlog. */
    maxBatch: number;
    /** Seconds batches may keep failing on an outage (registry, database, broker) before the member stops with an error; 0: retry on. Nothing is discarded either way. */
    maxOutageS: number;
    /** Local state checkpoints (kafka/stateCheckpointer.ts): the state directory (a member uses <stateDir>/<member id>), default <home>/state. */
    stateDir: string;
    /** Seconds between a partition's checkpoints while its state changes; 0: no checkpoints (every restore reads the whole changelog). */
    checkpointIntervalS: number;
    /** A checkpoint older than this many seconds is not used (keep it under the changelog's delete.retention.ms, 24 h by default). */
    checkpointMaxAgeS: number;
    /** A watcher allowed location subscribing (or refreshing) when the known position is older than this many seconds asks the location agent for a new one (location-requests); while one is subscribed, a position this old is asked for again. */
    locationMaxAgeS: number;
    /** At most one location request per subscriber this often, seconds: a burst of watchers (or a GMLC that never answers) must not become a burst of requests. */
    locationMinIntervalS: number;
    /**
     * The reg-event agent (3GPP Pi, RFC 3680) a member runs beside its event manager for the
     * subscribers whose partitions it owns, so each reg dialog moves with its subscriber on
     * rebalance (streams/event-manager/memberRegEvent.ts). Off unless registrar and identitiesFile are both set.
     */
    regEvent: {
      /** The registrar or S-CSCF the SUBSCRIBEs go to, host:port (UDP). */
      registrar: string | undefined;
      /** IMS public identities to watch, one SIP or tel URI per line (# comments); keyed through the subscriber directory. */
      identitiesFile: string | undefined;
      /** Our From URI. */
      watcher: string;
      /** Where the agent listens for NOTIFYs. */
      host: string;
      /** 0: any free port. */
      port: number;
      /** Requested subscription duration, seconds. */
      expiresS: number;
    };
  };
  frontEnd: {
    /** How the SIP front end handles an acceptable SUBSCRIBE: record it (stateless), 302 to the owning event manager (redirect), or forward it there (proxy). */
    mode: 'stateless' | 'redirect' | 'proxy';
    /** How long the front end waits for the owning event manager's answer to a PUBLISH before 500 + Retry-After (below SIP Timer F, 32 s). */
    publishTimeoutMs: number;
    /** Signs the flow tokens in the routes front ends record for NAT-friendly NOTIFYs (front-end/flowRelay.ts); unset = random per process. */
    flowSecret: string | undefined;
    /** Shared by the front ends: To-tags derive from it, refreshes of dialogs none issued get 481. Unset: not checked. */
    dialogSecret: string | undefined;
    /**
     * Messaging systems (voicemail platforms) allowed to PUBLISH `Event: message-summary` (RFC 3903 + RFC 3842) for any
     * subscriber: their SIP URIs, matched against the authenticated identity (or the From without authentication). Empty: 489.
     */
    messagingPublishers: string[];
    /** Who sent a SUBSCRIBE or PUBLISH (front-end/requestAuthenticator.ts). */
    auth: {
      mode: 'off' | 'digest' | 'trusted-only';
      realm: string;
      /** Shared by the front ends: nonces are MACed with it. Unset: random per process (one front end only). */
      nonceSecret: string | undefined;
      nonceLifetimeS: number;
      /** Proxy addresses whose P-Asserted-Identity is believed. */
      trustedProxies: string[];
      /** Names in the verified TLS client certificates of proxies whose P-Asserted-Identity is believed. */
      trustedProxyNames: string[];
      /** Digest algorithms offered, most preferred first. */
      algorithms: Array<'SHA-256' | 'MD5'>;
      /** Replays caught per front end in memory ('instance'), or by every front end through the credentials database ('shared'). */
      replayCheck: 'instance' | 'shared';
    };
    /** Flood limits of the SIP edge (protocols/sip/transport/sourceLimits.ts). */
    limits: {
      /** Messages per second per source address; 0: unlimited. */
      requestsPerSecond: number;
      burst: number | undefined;
      /** Addresses never limited (a proxy in front carries everyone's traffic). */
      exempt: string[];
      maxTcpConnectionsPerSource: number;
      maxTcpConnections: number;
      messageReadTimeoutMs: number;
      /** Server transactions held at once; past them new requests get 503 + Retry-After statelessly. */
      maxTransactions: number;
      /** An idle TCP/TLS connection is closed after this long. */
      tcpIdleTimeoutS: number;
      /** Largest SIP message taken on a stream (513 above it). */
      maxMessageBytes: number;
    };
    /** SIP over TLS (RFC 5630): on when a certificate and key are given (config/sipTlsFiles.ts reads them). */
    tls: {
      port: number;
      certFile: string | undefined;
      keyFile: string | undefined;
      /** Secret: the key file's passphrase when it is encrypted. */
      keyPassphrase: string | undefined;
      /** Require client certificates signed by this CA (mutual TLS); unset: none asked. */
      clientCaFile: string | undefined;
    };
  };
  notifySink: {
    /** Seconds the sink may keep failing on an outage (registry, broker) before it stops with the reason; 0: retry on. Nothing is discarded either way. */
    maxOutageS: number;
    /** Contact URI of NOTIFYs (where watchers send refresh SUBSCRIBEs): the SIP front end's; unset = the sink's own address. */
    contact: string | undefined;
    /** RFC 3261 §18.1.1: a NOTIFY larger than this goes over TCP (then UDP again if TCP is refused). */
    udpMaxRequestBytes: number;
    /** DNS servers (host or host:port) asked for NAPTR/SRV (RFC 3263) when a Contact names a domain without a port; empty: the system's. */
    dnsServers: string[];
    /** NOTIFYs to sips:/transport=tls Contacts: watchers' certificates verified against caFile (e.g. a test CA) instead of the system roots; cert/key presented when a watcher asks. */
    tls: {
      caFile: string | undefined;
      certFile: string | undefined;
      keyFile: string | undefined;
      /** Secret: the key file's passphrase when it is encrypted. */
      keyPassphrase: string | undefined;
    };
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

export const KAFKA_SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
/** The `sasl.oauthbearer.*` settings that are secrets: taken by reference in the config file, masked when shown. */
export const OAUTHBEARER_SECRETS: readonly string[] = [
  'sasl.oauthbearer.client.secret',
  'sasl.oauthbearer.assertion.private.key.passphrase',
  'sasl.oauthbearer.assertion.private.key.pem',
];

export const KAFKA_SASL_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN', 'OAUTHBEARER'] as const;

export interface KafkaSecurity {
  protocol: (typeof KAFKA_SECURITY_PROTOCOLS)[number];
  /** Only with SASL_*; SCRAM-SHA-512 when unset. */
  saslMechanism: (typeof KAFKA_SASL_MECHANISMS)[number];
  username: string | undefined;
  /** Secret. */
  password: string | undefined;
  /** PEM file of the CA(s) that signed the brokers' certificates; unset = the system's trust store. */
  caFile: string | undefined;
  /** PEM client certificate and key, for brokers that require mutual TLS. */
  certFile: string | undefined;
  keyFile: string | undefined;
  /** Secret: the client key's passphrase. */
  keyPassword: string | undefined;
  /** Check the broker's certificate names its host (default true; turn off only for throwaway test certificates). */
  verifyHostname: boolean;
  /** OAUTHBEARER: librdkafka's `sasl.oauthbearer.*` settings passed through as given (e.g. method oidc, token endpoint); the client secret among them is a secret. */
  oauthbearer: Record<string, string>;
}

type Json = Record<string, unknown>;

/** PEM files for a client of our HTTPS APIs; unset: the system's trust store and no client certificate. */
export interface ApiClientTls {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** Secret: the key file's passphrase when it is encrypted. */
  keyPassphrase?: string;
}

/** eventManager.maxTaskIdleMs's default: the longest records wait for an input whose end is not known (kafka/processorLoop.ts says why). */
export const DEFAULT_MAX_TASK_IDLE_MS = 10_000;

const DEFAULTS = {
  kafkaPort: 9092,
  controllerPort: 9093,
  registryPort: 8081,
  kafkaVersion: '4.1.1',
  apicurioVersion: '3.3.3',
} as const;

/** A connection URL with the password put in, unless it carries one already: the password can then come from a file. */
function withPassword(url: string, password: string | undefined): string {
  if (password === undefined) return url;
  const u = new URL(url);
  if (u.password) return url;
  u.password = encodeURIComponent(password);
  return u.toString();
}

/** Settings whose values are never printed (`presence config show` masks them). */
const SECRET_NAME = /PASSWORD|SECRET|AUTH_KEY|TOKEN(?!S_FILE)/;

/**
 * Where `presence stack up --kafka-security sasl-ssl` leaves the client side of
 * the embedded broker's listener: `{ "kafka": { "security": { ... } } }` with the
 * password as `{ "file": PATH }`. Used when the broker is the embedded one and
 * neither the environment nor the config file sets a security protocol, so every
 * command on this machine reaches the stack it started without extra settings.
 */
export function stackClientSecurityFile(home: string): string {
  return path.join(home, 'kafka', 'client-security.json');
}

function readStackClientSecurity(home: string): Json | undefined {
  const file = stackClientSecurityFile(home);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Json;
  } catch (err) {
    throw new Error(`${file} (written by \`presence stack up\`) is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** The config file in use: $PRESENCE_CONFIG, else ./presence.config.json when it exists. */
function configFilePath(env: NodeJS.ProcessEnv): string | undefined {
  const file = env.PRESENCE_CONFIG ?? path.join(process.cwd(), 'presence.config.json');
  return existsSync(file) ? file : undefined;
}

function readConfigFile(env: NodeJS.ProcessEnv): Json {
  const file = configFilePath(env);
  if (!file) {
    if (env.PRESENCE_CONFIG) throw new Error(`PRESENCE_CONFIG points at ${env.PRESENCE_CONFIG}, which does not exist`);
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

/** `{ [key]: value }` when the value is set, `{}` when not (optional properties stay absent). */
function optionalString<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

/** A comma-separated list (or a JSON array in the config file); empty entries dropped. */
function commaList(raw: unknown, fallback: string[] = []): string[] {
  if (raw === undefined || raw === '') return fallback;
  const items = Array.isArray(raw) ? raw.map(String) : String(raw).split(',');
  return items.map((a) => a.trim()).filter(Boolean);
}

/** Like int, but 0 is allowed (e.g. "off"). */
function nonNegativeInt(name: string, raw: unknown, fallback: number): number {
  return raw === 0 || raw === '0' ? 0 : int(name, raw, fallback);
}

/** A TCP port, 0 (any free one) allowed; unset stays undefined (off). */
export function port(name: string, raw: unknown): number | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`setting ${name} must be a port number 0-65535, got ${JSON.stringify(raw)}`);
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

function bool(name: string, raw: unknown, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  if (raw === true || raw === 'true' || raw === '1') return true;
  if (raw === false || raw === 'false' || raw === '0') return false;
  throw new Error(`setting ${name} must be true or false, got ${JSON.stringify(raw)}`);
}

function kafkaSecurity(env: NodeJS.ProcessEnv, file: Json, get: Lookup, secret: Lookup<string | undefined>): KafkaSecurity {
  const protocol = oneOf(
    'PRESENCE_KAFKA_SECURITY_PROTOCOL',
    get('PRESENCE_KAFKA_SECURITY_PROTOCOL', 'kafka.security.protocol'),
    KAFKA_SECURITY_PROTOCOLS,
    'PLAINTEXT',
  );
  const saslMechanism = oneOf(
    'PRESENCE_KAFKA_SASL_MECHANISM',
    get('PRESENCE_KAFKA_SASL_MECHANISM', 'kafka.security.saslMechanism'),
    KAFKA_SASL_MECHANISMS,
    'SCRAM-SHA-512',
  );
  const username = str(get('PRESENCE_KAFKA_USERNAME', 'kafka.security.username'));
  const password = secret('PRESENCE_KAFKA_PASSWORD', 'kafka.security.password');
  const oauthbearer: Record<string, string> = {};
  const fromFile = pick(file, 'kafka.security.oauthbearer');
  if (fromFile !== undefined) {
    if (fromFile === null || typeof fromFile !== 'object')
      throw new Error('setting kafka.security.oauthbearer must be an object of sasl.oauthbearer.* settings');
    for (const [k, v] of Object.entries(fromFile as Json)) {
      if (!k.startsWith('sasl.oauthbearer.')) throw new Error(`setting kafka.security.oauthbearer: ${k} is not a sasl.oauthbearer.* setting`);
      const value = OAUTHBEARER_SECRETS.includes(k) ? resolveSecret(`kafka.security.oauthbearer["${k}"]`, undefined, v, env) : str(v);
      if (value !== undefined) oauthbearer[k] = value;
    }
  }
  // The env (or its _FILE) wins over the file's reference; the oauthbearer object's dotted keys cannot be picked by path.
  const clientSecret = secret('PRESENCE_KAFKA_OAUTHBEARER_CLIENT_SECRET', 'kafka.security.oauthbearerClientSecret');
  if (clientSecret !== undefined) oauthbearer['sasl.oauthbearer.client.secret'] = clientSecret;
  const assertionKeyPassphrase = secret('PRESENCE_KAFKA_OAUTHBEARER_ASSERTION_KEY_PASSPHRASE', 'kafka.security.oauthbearerAssertionKeyPassphrase');
  if (assertionKeyPassphrase !== undefined) oauthbearer['sasl.oauthbearer.assertion.private.key.passphrase'] = assertionKeyPassphrase;
  const sasl = protocol.startsWith('SASL_');
  if (sasl && saslMechanism !== 'OAUTHBEARER' && (username === undefined || password === undefined))
    throw new Error(
      `Kafka security protocol ${protocol} with ${saslMechanism} needs a username and a password (PRESENCE_KAFKA_USERNAME, PRESENCE_KAFKA_PASSWORD or kafka.security.password: { "file": PATH })`,
    );
  return {
    protocol,
    saslMechanism,
    username,
    password,
    caFile: str(get('PRESENCE_KAFKA_SSL_CA_FILE', 'kafka.security.caFile')),
    certFile: str(get('PRESENCE_KAFKA_SSL_CERT_FILE', 'kafka.security.certFile')),
    keyFile: str(get('PRESENCE_KAFKA_SSL_KEY_FILE', 'kafka.security.keyFile')),
    keyPassword: secret('PRESENCE_KAFKA_SSL_KEY_PASSWORD', 'kafka.security.keyPassword'),
    verifyHostname: bool('PRESENCE_KAFKA_SSL_VERIFY_HOSTNAME', get('PRESENCE_KAFKA_SSL_VERIFY_HOSTNAME', 'kafka.security.verifyHostname'), true),
    oauthbearer,
  };
}

type Lookup<T = unknown> = (envName: string, filePath: string) => T;

/** The configured security; for the embedded broker with none configured, what `stack up` left in stackClientSecurityFile. */
function embeddedOrConfiguredKafkaSecurity(
  env: NodeJS.ProcessEnv,
  file: Json,
  get: Lookup,
  secret: Lookup<string | undefined>,
  home: string,
  embedded: boolean,
): KafkaSecurity {
  const configured = env.PRESENCE_KAFKA_SECURITY_PROTOCOL !== undefined || pick(file, 'kafka.security.protocol') !== undefined;
  const stack = embedded && !configured ? readStackClientSecurity(home) : undefined;
  if (!stack) return kafkaSecurity(env, file, get, secret);
  // Env still wins key by key (e.g. a test pointing at another CA file); the stack's file stands in for the config file.
  const stackGet: Lookup = (envName, filePath) => env[envName] ?? pick(stack, filePath) ?? undefined;
  const stackSecret: Lookup<string | undefined> = (envName, filePath) => resolveSecret(envName, env[envName], pick(stack, filePath) ?? undefined, env);
  return kafkaSecurity(env, stack, stackGet, stackSecret);
}

/** Where one setting's value came from, for `presence config show`. */
export interface SettingSource {
  env: string;
  key: string;
  from: 'env' | 'file' | 'default';
  /** As given (env string or file value); undefined for a default. */
  raw: unknown;
  secret: boolean;
}

/** Loads settings from the environment and the config file. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  return load(env);
}

/** The settings with every setting's origin, in the order they are read (each once). */
export function explainSettings(env: NodeJS.ProcessEnv = process.env): { settings: Settings; sources: SettingSource[]; configFile: string | undefined } {
  const seen = new Map<string, SettingSource>();
  const settings = load(env, (src) => {
    if (!seen.has(src.env)) seen.set(src.env, src);
  });
  return { settings, sources: [...seen.values()], configFile: configFilePath(env) };
}

function load(env: NodeJS.ProcessEnv, trace?: (src: SettingSource) => void): Settings {
  const file = readConfigFile(env);
  const origin = (envName: string, filePath: string, isSecret: boolean): unknown => {
    const fromEnv = env[envName];
    // null in the file means "the default", as in presence.config.example.json.
    const fromFile = pick(file, filePath) ?? undefined;
    trace?.({
      env: envName,
      key: filePath,
      from: fromEnv !== undefined ? 'env' : fromFile !== undefined ? 'file' : 'default',
      raw: fromEnv ?? fromFile,
      secret: isSecret,
    });
    return fromEnv ?? fromFile;
  };
  const get: Lookup = (envName, filePath) => origin(envName, filePath, SECRET_NAME.test(envName));
  // A secret also comes from a file named by <NAME>_FILE (Docker and Kubernetes mount secrets as files).
  const secret: Lookup<string | undefined> = (envName, filePath) => {
    origin(envName, filePath, true);
    const fromFileEnv = env[`${envName}_FILE`];
    const fileRef = fromFileEnv ? { file: fromFileEnv } : undefined;
    return resolveSecret(envName, env[envName], fileRef ?? pick(file, filePath) ?? undefined, env);
  };

  const home = path.resolve(str(get('PRESENCE_HOME', 'home')) ?? path.join(projectRoot, '.presence'));
  const kafkaPort = int('PRESENCE_KAFKA_PORT', get('PRESENCE_KAFKA_PORT', 'kafka.port'), DEFAULTS.kafkaPort);
  const externalBrokers = str(get('PRESENCE_KAFKA_BROKERS', 'kafka.brokers'));
  const registryPort = int('PRESENCE_REGISTRY_PORT', get('PRESENCE_REGISTRY_PORT', 'registry.port'), DEFAULTS.registryPort);
  const externalRegistry = str(get('PRESENCE_REGISTRY_URL', 'registry.url'));
  const adminUrl = str(get('PRESENCE_DATABASE_ADMIN_URL', 'database.adminUrl')) ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const tlsReloadIntervalS = nonNegativeInt('PRESENCE_TLS_RELOAD_INTERVAL_S', get('PRESENCE_TLS_RELOAD_INTERVAL_S', 'tls.reloadIntervalS'), 60);

  return {
    home,
    log: {
      level: oneOf('PRESENCE_LOG_LEVEL', get('PRESENCE_LOG_LEVEL', 'log.level'), ['debug', 'info', 'warn', 'error'] as const, 'info'),
      format: oneOf('PRESENCE_LOG_FORMAT', get('PRESENCE_LOG_FORMAT', 'log.format'), ['auto', 'json', 'text'] as const, 'auto'),
    },
    kafka: {
      brokers: externalBrokers ?? `127.0.0.1:${kafkaPort}`,
      external: externalBrokers !== undefined,
      port: kafkaPort,
      controllerPort: int('PRESENCE_KAFKA_CONTROLLER_PORT', get('PRESENCE_KAFKA_CONTROLLER_PORT', 'kafka.controllerPort'), DEFAULTS.controllerPort),
      version: str(get('PRESENCE_KAFKA_VERSION', 'kafka.version')) ?? DEFAULTS.kafkaVersion,
      heapMb: int('PRESENCE_KAFKA_HEAP_MB', get('PRESENCE_KAFKA_HEAP_MB', 'kafka.heapMb'), 512),
      security: embeddedOrConfiguredKafkaSecurity(env, file, get, secret, home, externalBrokers === undefined),
    },
    registry: {
      url: (externalRegistry ?? `http://127.0.0.1:${registryPort}/apis/ccompat/v7`).replace(/\/+$/, ''),
      external: externalRegistry !== undefined,
      port: registryPort,
      version: str(get('PRESENCE_APICURIO_VERSION', 'registry.version')) ?? DEFAULTS.apicurioVersion,
      heapMb: int('PRESENCE_REGISTRY_HEAP_MB', get('PRESENCE_REGISTRY_HEAP_MB', 'registry.heapMb'), 384),
      javaHome: str(get('PRESENCE_REGISTRY_JAVA_HOME', 'registry.javaHome')),
      username: str(get('PRESENCE_REGISTRY_USERNAME', 'registry.username')),
      password: secret('PRESENCE_REGISTRY_PASSWORD', 'registry.password'),
    },
    database: {
      adminUrl,
      url: withPassword(
        str(get('PRESENCE_DATABASE_URL', 'database.url')) ?? 'postgres://postgres@127.0.0.1:5432/presence',
        secret('PRESENCE_DATABASE_PASSWORD', 'database.password'),
      ),
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
    tls: { reloadIntervalS: tlsReloadIntervalS },
    http: {
      tokensFile: str(get('PRESENCE_HTTP_TOKENS_FILE', 'http.tokensFile')),
      token: secret('PRESENCE_HTTP_TOKEN', 'http.token'),
      limits: {
        maxHeaderBytes: int('PRESENCE_HTTP_MAX_HEADER_BYTES', get('PRESENCE_HTTP_MAX_HEADER_BYTES', 'http.maxHeaderBytes'), 16 * 1024),
        headersTimeoutMs: int('PRESENCE_HTTP_HEADERS_TIMEOUT_MS', get('PRESENCE_HTTP_HEADERS_TIMEOUT_MS', 'http.headersTimeoutMs'), 10_000),
        requestTimeoutMs: int('PRESENCE_HTTP_REQUEST_TIMEOUT_MS', get('PRESENCE_HTTP_REQUEST_TIMEOUT_MS', 'http.requestTimeoutMs'), 30_000),
        ...optionalString('tlsCertFile', str(get('PRESENCE_HTTP_TLS_CERT', 'http.tlsCert'))),
        ...optionalString('tlsKeyFile', str(get('PRESENCE_HTTP_TLS_KEY', 'http.tlsKey'))),
        ...optionalString('tlsKeyPassphrase', secret('PRESENCE_HTTP_TLS_KEY_PASSPHRASE', 'http.tlsKeyPassphrase')),
        ...optionalString('tlsClientCaFile', str(get('PRESENCE_HTTP_TLS_CLIENT_CA', 'http.tlsClientCa'))),
        tlsReloadIntervalS,
      },
      client: {
        ...optionalString('caFile', str(get('PRESENCE_HTTP_CLIENT_CA', 'http.client.caFile'))),
        ...optionalString('certFile', str(get('PRESENCE_HTTP_CLIENT_CERT', 'http.client.certFile'))),
        ...optionalString('keyFile', str(get('PRESENCE_HTTP_CLIENT_KEY', 'http.client.keyFile'))),
        ...optionalString('keyPassphrase', secret('PRESENCE_HTTP_CLIENT_KEY_PASSPHRASE', 'http.client.keyPassphrase')),
      },
    },
    locationAgent: {
      mlpUrl: str(get('PRESENCE_MLP_URL', 'locationAgent.mlpUrl')),
      clientId: str(get('PRESENCE_MLP_CLIENT_ID', 'locationAgent.clientId')) ?? 'presence',
      password: secret('PRESENCE_MLP_PASSWORD', 'locationAgent.password'),
      accuracyM: int('PRESENCE_MLP_ACCURACY_M', get('PRESENCE_MLP_ACCURACY_M', 'locationAgent.accuracyM'), 500),
      maxAgeS: nonNegativeInt('PRESENCE_MLP_MAX_AGE_S', get('PRESENCE_MLP_MAX_AGE_S', 'locationAgent.maxAgeS'), 300),
      minIntervalS: nonNegativeInt('PRESENCE_MLP_MIN_INTERVAL_S', get('PRESENCE_MLP_MIN_INTERVAL_S', 'locationAgent.minIntervalS'), 60),
      timeoutMs: int('PRESENCE_MLP_TIMEOUT_MS', get('PRESENCE_MLP_TIMEOUT_MS', 'locationAgent.timeoutMs'), 10_000),
      concurrency: int('PRESENCE_MLP_CONCURRENCY', get('PRESENCE_MLP_CONCURRENCY', 'locationAgent.concurrency'), 8),
      statsInterval: nonNegativeInt('PRESENCE_LOCATION_AGENT_STATS_INTERVAL', get('PRESENCE_LOCATION_AGENT_STATS_INTERVAL', 'locationAgent.statsInterval'), 30),
    },
    hep: {
      authKey: secret('PRESENCE_HEP_AUTH_KEY', 'hep.authKey'),
      tls: {
        // HEP has no registered TLS port: the one after the usual 9060.
        port: nonNegativeInt('PRESENCE_HEP_TLS_PORT', get('PRESENCE_HEP_TLS_PORT', 'hep.tls.port'), 9061),
        certFile: str(get('PRESENCE_HEP_TLS_CERT_FILE', 'hep.tls.certFile')),
        keyFile: str(get('PRESENCE_HEP_TLS_KEY_FILE', 'hep.tls.keyFile')),
        keyPassphrase: secret('PRESENCE_HEP_TLS_KEY_PASSPHRASE', 'hep.tls.keyPassphrase'),
        clientCaFile: str(get('PRESENCE_HEP_TLS_CLIENT_CA_FILE', 'hep.tls.clientCaFile')),
      },
    },
    admin: {
      host: str(get('PRESENCE_ADMIN_HOST', 'admin.host')) ?? '127.0.0.1',
      eventManagerPort: port('PRESENCE_EVENT_MANAGER_ADMIN_PORT', get('PRESENCE_EVENT_MANAGER_ADMIN_PORT', 'admin.eventManagerPort')),
      sipFrontPort: port('PRESENCE_SIP_FRONT_ADMIN_PORT', get('PRESENCE_SIP_FRONT_ADMIN_PORT', 'admin.sipFrontPort')),
      notifySinkPort: port('PRESENCE_NOTIFY_SINK_ADMIN_PORT', get('PRESENCE_NOTIFY_SINK_ADMIN_PORT', 'admin.notifySinkPort')),
      hepTapPort: port('PRESENCE_HEP_TAP_ADMIN_PORT', get('PRESENCE_HEP_TAP_ADMIN_PORT', 'admin.hepTapPort')),
      groupPresencePort: port('PRESENCE_GROUP_PRESENCE_ADMIN_PORT', get('PRESENCE_GROUP_PRESENCE_ADMIN_PORT', 'admin.groupPresencePort')),
      groupServicePort: port('PRESENCE_GROUP_SERVICE_ADMIN_PORT', get('PRESENCE_GROUP_SERVICE_ADMIN_PORT', 'admin.groupServicePort')),
      availabilityServicePort: port(
        'PRESENCE_AVAILABILITY_SERVICE_ADMIN_PORT',
        get('PRESENCE_AVAILABILITY_SERVICE_ADMIN_PORT', 'admin.availabilityServicePort'),
      ),
      groupPresenceApiPort: port('PRESENCE_GROUP_PRESENCE_API_ADMIN_PORT', get('PRESENCE_GROUP_PRESENCE_API_ADMIN_PORT', 'admin.groupPresenceApiPort')),
      locatorPort: port('PRESENCE_LOCATOR_ADMIN_PORT', get('PRESENCE_LOCATOR_ADMIN_PORT', 'admin.locatorPort')),
      consolePort: port('PRESENCE_CONSOLE_ADMIN_PORT', get('PRESENCE_CONSOLE_ADMIN_PORT', 'admin.consolePort')),
      locationAgentPort: port('PRESENCE_LOCATION_AGENT_ADMIN_PORT', get('PRESENCE_LOCATION_AGENT_ADMIN_PORT', 'admin.locationAgentPort')),
      callHandlingPort: port('PRESENCE_CALL_HANDLING_ADMIN_PORT', get('PRESENCE_CALL_HANDLING_ADMIN_PORT', 'admin.callHandlingPort')),
      eventDeriverPort: port('PRESENCE_EVENT_DERIVER_ADMIN_PORT', get('PRESENCE_EVENT_DERIVER_ADMIN_PORT', 'admin.eventDeriverPort')),
      eventServicePort: port('PRESENCE_EVENT_SERVICE_ADMIN_PORT', get('PRESENCE_EVENT_SERVICE_ADMIN_PORT', 'admin.eventServicePort')),
      kafkaStatisticsIntervalMs: nonNegativeInt(
        'PRESENCE_KAFKA_STATISTICS_INTERVAL_MS',
        get('PRESENCE_KAFKA_STATISTICS_INTERVAL_MS', 'admin.kafkaStatisticsIntervalMs'),
        15_000,
      ),
    },
    eventManager: {
      timerClock: oneOf('PRESENCE_TIMER_CLOCK', get('PRESENCE_TIMER_CLOCK', 'eventManager.timerClock'), ['stream', 'wall'] as const, 'stream'),
      defaultWatcherDecision: oneOf(
        'PRESENCE_DEFAULT_WATCHER_DECISION',
        get('PRESENCE_DEFAULT_WATCHER_DECISION', 'eventManager.defaultWatcherDecision'),
        ['allow', 'allow-presence', 'block', 'polite-block', 'confirm'] as const,
        'allow',
      ),
      memberReportIntervalS: int('PRESENCE_MEMBER_REPORT_INTERVAL', get('PRESENCE_MEMBER_REPORT_INTERVAL', 'eventManager.memberReportIntervalS'), 5),
      locationMaxAgeS: int('PRESENCE_LOCATION_MAX_AGE', get('PRESENCE_LOCATION_MAX_AGE', 'eventManager.locationMaxAgeS'), 900),
      locationMinIntervalS: nonNegativeInt('PRESENCE_LOCATION_MIN_INTERVAL', get('PRESENCE_LOCATION_MIN_INTERVAL', 'eventManager.locationMinIntervalS'), 60),
      regEvent: {
        registrar: str(get('PRESENCE_REG_EVENT_REGISTRAR', 'eventManager.regEvent.registrar')),
        identitiesFile: str(get('PRESENCE_REG_EVENT_IDENTITIES', 'eventManager.regEvent.identitiesFile')),
        watcher: str(get('PRESENCE_REG_EVENT_WATCHER', 'eventManager.regEvent.watcher')) ?? 'sip:presence@localhost',
        host: str(get('PRESENCE_REG_EVENT_HOST', 'eventManager.regEvent.host')) ?? '127.0.0.1',
        port: port('PRESENCE_REG_EVENT_PORT', get('PRESENCE_REG_EVENT_PORT', 'eventManager.regEvent.port')) ?? 0,
        expiresS: int('PRESENCE_REG_EVENT_EXPIRES', get('PRESENCE_REG_EVENT_EXPIRES', 'eventManager.regEvent.expiresS'), 600),
      },
      handoff: oneOf('PRESENCE_HANDOFF', get('PRESENCE_HANDOFF', 'eventManager.handoff'), ['transparent', 'resubscribe'] as const, 'transparent'),
      assignor: oneOf('PRESENCE_ASSIGNOR', get('PRESENCE_ASSIGNOR', 'eventManager.assignor'), ['range', 'uniform', 'load'] as const, 'range'),
      maxOutageS: nonNegativeInt('PRESENCE_MAX_OUTAGE_S', get('PRESENCE_MAX_OUTAGE_S', 'eventManager.maxOutageS'), 0),
      maxTaskIdleMs: nonNegativeInt('PRESENCE_MAX_TASK_IDLE_MS', get('PRESENCE_MAX_TASK_IDLE_MS', 'eventManager.maxTaskIdleMs'), DEFAULT_MAX_TASK_IDLE_MS),
      maxBatch: int('PRESENCE_EVENT_MANAGER_MAX_BATCH', get('PRESENCE_EVENT_MANAGER_MAX_BATCH', 'eventManager.maxBatch'), 500),
      stateDir: path.resolve(str(get('PRESENCE_STATE_DIR', 'eventManager.stateDir')) ?? path.join(home, 'state')),
      checkpointIntervalS: nonNegativeInt('PRESENCE_CHECKPOINT_INTERVAL_S', get('PRESENCE_CHECKPOINT_INTERVAL_S', 'eventManager.checkpointIntervalS'), 60),
      checkpointMaxAgeS: int('PRESENCE_CHECKPOINT_MAX_AGE_S', get('PRESENCE_CHECKPOINT_MAX_AGE_S', 'eventManager.checkpointMaxAgeS'), 43_200),
    },
    groupPresence: {
      maxOutageS: nonNegativeInt('PRESENCE_GROUP_PRESENCE_MAX_OUTAGE_S', get('PRESENCE_GROUP_PRESENCE_MAX_OUTAGE_S', 'groupPresence.maxOutageS'), 0),
    },
    roles: (() => {
      const p = (env: string, key: string, fallback?: number) => port(env, get(env, key)) ?? fallback;
      const h = (env: string, key: string) => str(get(env, key)) ?? '127.0.0.1';
      const id = (env: string, key: string) => str(get(env, key));
      // The tuning flags (issue 14 item 4): same defaults as the flags had, so no command changes unless told.
      const n = (env: string, key: string, fallback: number) => int(env, get(env, key), fallback);
      const n0 = (env: string, key: string, fallback: number) => nonNegativeInt(env, get(env, key), fallback);
      const b = (env: string, key: string, fallback: boolean) => bool(env, get(env, key), fallback);
      const optN = (env: string, key: string) => (get(env, key) === undefined ? undefined : int(env, get(env, key), 1));
      return {
        eventManager: {
          memberId: id('PRESENCE_EVENT_MANAGER_MEMBER_ID', 'roles.eventManager.memberId'),
          sipPort: p('PRESENCE_EVENT_MANAGER_SIP_PORT', 'roles.eventManager.sipPort'),
          sipHost: h('PRESENCE_EVENT_MANAGER_SIP_HOST', 'roles.eventManager.sipHost'),
          sipTlsPort: p('PRESENCE_EVENT_MANAGER_SIP_TLS_PORT', 'roles.eventManager.sipTlsPort'),
          apiPort: p('PRESENCE_EVENT_MANAGER_API_PORT', 'roles.eventManager.apiPort'),
          apiHost: h('PRESENCE_EVENT_MANAGER_API_HOST', 'roles.eventManager.apiHost'),
          callHandlingPort: p('PRESENCE_EVENT_MANAGER_CALL_HANDLING_PORT', 'roles.eventManager.callHandlingPort'),
          callHandlingHost: h('PRESENCE_EVENT_MANAGER_CALL_HANDLING_HOST', 'roles.eventManager.callHandlingHost'),
          advertisedHost: id('PRESENCE_EVENT_MANAGER_ADVERTISED_HOST', 'roles.eventManager.advertisedHost'),
          capacity: nonNegativeInt('PRESENCE_EVENT_MANAGER_CAPACITY', get('PRESENCE_EVENT_MANAGER_CAPACITY', 'roles.eventManager.capacity'), 0),
          memberIndex: n('PRESENCE_EVENT_MANAGER_MEMBER_INDEX', 'roles.eventManager.memberIndex', 1),
          dynamic: b('PRESENCE_EVENT_MANAGER_DYNAMIC', 'roles.eventManager.dynamic', false),
          protocol: oneOf(
            'PRESENCE_EVENT_MANAGER_PROTOCOL',
            get('PRESENCE_EVENT_MANAGER_PROTOCOL', 'roles.eventManager.protocol'),
            ['consumer', 'classic'] as const,
            'consumer',
          ),
          statsInterval: n('PRESENCE_EVENT_MANAGER_STATS_INTERVAL', 'roles.eventManager.statsInterval', 10),
          httpUrl: id('PRESENCE_EVENT_MANAGER_HTTP_URL', 'roles.eventManager.httpUrl'),
          sipDirectory: b('PRESENCE_EVENT_MANAGER_SIP_DIRECTORY', 'roles.eventManager.sipDirectory', true),
        },
        sipFront: {
          port: p('PRESENCE_SIP_FRONT_PORT', 'roles.sipFront.port', 5060)!,
          host: h('PRESENCE_SIP_FRONT_HOST', 'roles.sipFront.host'),
          advertisedHost: id('PRESENCE_SIP_FRONT_ADVERTISED_HOST', 'roles.sipFront.advertisedHost'),
          minExpires: n('PRESENCE_SIP_FRONT_MIN_EXPIRES', 'roles.sipFront.minExpires', 60),
          maxExpires: n('PRESENCE_SIP_FRONT_MAX_EXPIRES', 'roles.sipFront.maxExpires', 7200),
          defaultExpires: n('PRESENCE_SIP_FRONT_DEFAULT_EXPIRES', 'roles.sipFront.defaultExpires', 3600),
          frontEndId: id('PRESENCE_SIP_FRONT_FRONT_END_ID', 'roles.sipFront.frontEndId'),
          maxInFlight: n('PRESENCE_SIP_FRONT_MAX_IN_FLIGHT', 'roles.sipFront.maxInFlight', 2000),
          directory: b('PRESENCE_SIP_FRONT_DIRECTORY', 'roles.sipFront.directory', true),
          groups: b('PRESENCE_SIP_FRONT_GROUPS', 'roles.sipFront.groups', true),
          flows: b('PRESENCE_SIP_FRONT_FLOWS', 'roles.sipFront.flows', true),
          statsInterval: n('PRESENCE_SIP_FRONT_STATS_INTERVAL', 'roles.sipFront.statsInterval', 10),
          workers: n('PRESENCE_SIP_FRONT_WORKERS', 'roles.sipFront.workers', 1),
        },
        notifySink: {
          port: p('PRESENCE_NOTIFY_SINK_PORT', 'roles.notifySink.port', 5080)!,
          host: h('PRESENCE_NOTIFY_SINK_HOST', 'roles.notifySink.host'),
          memberId: id('PRESENCE_NOTIFY_SINK_MEMBER_ID', 'roles.notifySink.memberId'),
          advertise: id('PRESENCE_NOTIFY_SINK_ADVERTISE', 'roles.notifySink.advertise'),
          t1Ms: n('PRESENCE_NOTIFY_SINK_T1_MS', 'roles.notifySink.t1Ms', 500),
          maxAttempts: n('PRESENCE_NOTIFY_SINK_MAX_ATTEMPTS', 'roles.notifySink.maxAttempts', 4),
          unansweredMaxAttempts: n('PRESENCE_NOTIFY_SINK_UNANSWERED_MAX_ATTEMPTS', 'roles.notifySink.unansweredMaxAttempts', 2),
          backoffMs: n0('PRESENCE_NOTIFY_SINK_BACKOFF_MS', 'roles.notifySink.backoffMs', 1000),
          backoffMaxMs: n0('PRESENCE_NOTIFY_SINK_BACKOFF_MAX_MS', 'roles.notifySink.backoffMaxMs', 30_000),
          minIntervalMs: n0('PRESENCE_NOTIFY_SINK_MIN_INTERVAL_MS', 'roles.notifySink.minIntervalMs', 0),
          concurrency: n('PRESENCE_NOTIFY_SINK_CONCURRENCY', 'roles.notifySink.concurrency', 256),
          coalesce: b('PRESENCE_NOTIFY_SINK_COALESCE', 'roles.notifySink.coalesce', false),
          maxQueuedPerDialog: n('PRESENCE_NOTIFY_SINK_MAX_QUEUED_PER_DIALOG', 'roles.notifySink.maxQueuedPerDialog', 64),
          maxPending: n('PRESENCE_NOTIFY_SINK_MAX_PENDING', 'roles.notifySink.maxPending', 10_000),
          maxPollIntervalMs: optN('PRESENCE_NOTIFY_SINK_MAX_POLL_INTERVAL_MS', 'roles.notifySink.maxPollIntervalMs'),
          groupId: id('PRESENCE_NOTIFY_SINK_GROUP_ID', 'roles.notifySink.groupId'),
          memberIndex: n('PRESENCE_NOTIFY_SINK_MEMBER_INDEX', 'roles.notifySink.memberIndex', 1),
          dynamic: b('PRESENCE_NOTIFY_SINK_DYNAMIC', 'roles.notifySink.dynamic', false),
          statsInterval: n('PRESENCE_NOTIFY_SINK_STATS_INTERVAL', 'roles.notifySink.statsInterval', 10),
        },
        groupPresence: {
          memberId: id('PRESENCE_GROUP_PRESENCE_MEMBER_ID', 'roles.groupPresence.memberId'),
          memberIndex: n('PRESENCE_GROUP_PRESENCE_MEMBER_INDEX', 'roles.groupPresence.memberIndex', 1),
          fetchWaitMs: n('PRESENCE_GROUP_PRESENCE_FETCH_WAIT_MS', 'roles.groupPresence.fetchWaitMs', 50),
          statsInterval: n('PRESENCE_GROUP_PRESENCE_STATS_INTERVAL', 'roles.groupPresence.statsInterval', 10),
        },
        groupService: {
          port: p('PRESENCE_GROUP_SERVICE_PORT', 'roles.groupService.port', 8091)!,
          host: h('PRESENCE_GROUP_SERVICE_HOST', 'roles.groupService.host'),
          schema: str(get('PRESENCE_GROUP_SERVICE_SCHEMA', 'roles.groupService.schema')) ?? 'presence',
          relay: b('PRESENCE_GROUP_SERVICE_RELAY', 'roles.groupService.relay', true),
          directory: b('PRESENCE_GROUP_SERVICE_DIRECTORY', 'roles.groupService.directory', true),
          maxBody: n('PRESENCE_GROUP_SERVICE_MAX_BODY', 'roles.groupService.maxBody', 256 * 1024),
          statsInterval: n('PRESENCE_GROUP_SERVICE_STATS_INTERVAL', 'roles.groupService.statsInterval', 30),
        },
        availabilityService: {
          port: p('PRESENCE_AVAILABILITY_SERVICE_PORT', 'roles.availabilityService.port', 8093)!,
          host: h('PRESENCE_AVAILABILITY_SERVICE_HOST', 'roles.availabilityService.host'),
          schema: str(get('PRESENCE_AVAILABILITY_SERVICE_SCHEMA', 'roles.availabilityService.schema')) ?? 'presence',
          relay: b('PRESENCE_AVAILABILITY_SERVICE_RELAY', 'roles.availabilityService.relay', true),
          maxBody: n('PRESENCE_AVAILABILITY_SERVICE_MAX_BODY', 'roles.availabilityService.maxBody', 256 * 1024),
          statsInterval: n('PRESENCE_AVAILABILITY_SERVICE_STATS_INTERVAL', 'roles.availabilityService.statsInterval', 30),
        },
        groupPresenceApi: {
          port: p('PRESENCE_GROUP_PRESENCE_API_PORT', 'roles.groupPresenceApi.port', 8092)!,
          host: h('PRESENCE_GROUP_PRESENCE_API_HOST', 'roles.groupPresenceApi.host'),
          schema: str(get('PRESENCE_GROUP_PRESENCE_API_SCHEMA', 'roles.groupPresenceApi.schema')) ?? 'presence',
          sink: b('PRESENCE_GROUP_PRESENCE_API_SINK', 'roles.groupPresenceApi.sink', true),
          directory: b('PRESENCE_GROUP_PRESENCE_API_DIRECTORY', 'roles.groupPresenceApi.directory', true),
          statsInterval: n('PRESENCE_GROUP_PRESENCE_API_STATS_INTERVAL', 'roles.groupPresenceApi.statsInterval', 10),
        },
        locator: { port: p('PRESENCE_LOCATOR_PORT', 'roles.locator.port', 8090)!, host: h('PRESENCE_LOCATOR_HOST', 'roles.locator.host') },
        eventDeriver: {
          memberId: id('PRESENCE_EVENT_DERIVER_MEMBER_ID', 'roles.eventDeriver.memberId'),
          memberIndex: n('PRESENCE_EVENT_DERIVER_MEMBER_INDEX', 'roles.eventDeriver.memberIndex', 1),
          fetchWaitMs: n('PRESENCE_EVENT_DERIVER_FETCH_WAIT_MS', 'roles.eventDeriver.fetchWaitMs', 50),
          maxOutageS: nonNegativeInt('PRESENCE_EVENT_DERIVER_MAX_OUTAGE_S', get('PRESENCE_EVENT_DERIVER_MAX_OUTAGE_S', 'roles.eventDeriver.maxOutageS'), 0),
          statsInterval: n('PRESENCE_EVENT_DERIVER_STATS_INTERVAL', 'roles.eventDeriver.statsInterval', 30),
        },
        eventService: {
          port: p('PRESENCE_EVENT_SERVICE_PORT', 'roles.eventService.port', 8095)!,
          host: h('PRESENCE_EVENT_SERVICE_HOST', 'roles.eventService.host'),
          schema: str(get('PRESENCE_EVENT_SERVICE_SCHEMA', 'roles.eventService.schema')) ?? 'presence_events',
          retentionHours: n('PRESENCE_EVENT_SERVICE_RETENTION_HOURS', 'roles.eventService.retentionHours', 168),
          webhookMaxBackoffS: n('PRESENCE_EVENT_SERVICE_WEBHOOK_MAX_BACKOFF_S', 'roles.eventService.webhookMaxBackoffS', 60),
          statsInterval: n('PRESENCE_EVENT_SERVICE_STATS_INTERVAL', 'roles.eventService.statsInterval', 30),
        },
        callHandling: {
          port: p('PRESENCE_CALL_HANDLING_PORT', 'roles.callHandling.port', 5065)!,
          host: h('PRESENCE_CALL_HANDLING_HOST', 'roles.callHandling.host'),
          voicemail: id('PRESENCE_CALL_HANDLING_VOICEMAIL', 'roles.callHandling.voicemail'),
          ownerTimeoutMs: n('PRESENCE_CALL_HANDLING_OWNER_TIMEOUT_MS', 'roles.callHandling.ownerTimeoutMs', 250),
          directory: b('PRESENCE_CALL_HANDLING_DIRECTORY', 'roles.callHandling.directory', true),
          assertedIdentity: b('PRESENCE_CALL_HANDLING_ASSERTED_IDENTITY', 'roles.callHandling.assertedIdentity', true),
          statsInterval: n('PRESENCE_CALL_HANDLING_STATS_INTERVAL', 'roles.callHandling.statsInterval', 30),
          tlsPort: p('PRESENCE_CALL_HANDLING_TLS_PORT', 'roles.callHandling.tlsPort'),
        },
        console: {
          port: p('PRESENCE_CONSOLE_PORT', 'roles.console.port', 8088)!,
          host: h('PRESENCE_CONSOLE_HOST', 'roles.console.host'),
          directory: b('PRESENCE_CONSOLE_DIRECTORY', 'roles.console.directory', true),
          manage: b('PRESENCE_CONSOLE_MANAGE', 'roles.console.manage', false),
          capturesDir: id('PRESENCE_CONSOLE_CAPTURES_DIR', 'roles.console.capturesDir'),
        },
        hepTap: {
          port: p('PRESENCE_HEP_TAP_PORT', 'roles.hepTap.port'),
          host: h('PRESENCE_HEP_TAP_HOST', 'roles.hepTap.host'),
          memberId: id('PRESENCE_HEP_TAP_MEMBER_ID', 'roles.hepTap.memberId'),
          memberIndex: n('PRESENCE_HEP_TAP_MEMBER_INDEX', 'roles.hepTap.memberIndex', 1),
          directory: b('PRESENCE_HEP_TAP_DIRECTORY', 'roles.hepTap.directory', true),
          statsInterval: n('PRESENCE_HEP_TAP_STATS_INTERVAL', 'roles.hepTap.statsInterval', 10),
        },
      };
    })(),
    frontEnd: {
      mode: oneOf('PRESENCE_FRONT_END_MODE', get('PRESENCE_FRONT_END_MODE', 'frontEnd.mode'), ['stateless', 'redirect', 'proxy'] as const, 'stateless'),
      publishTimeoutMs: int('PRESENCE_PUBLISH_TIMEOUT_MS', get('PRESENCE_PUBLISH_TIMEOUT_MS', 'frontEnd.publishTimeoutMs'), 8000),
      flowSecret: secret('PRESENCE_FLOW_SECRET', 'frontEnd.flowSecret'),
      dialogSecret: secret('PRESENCE_DIALOG_SECRET', 'frontEnd.dialogSecret'),
      messagingPublishers: commaList(get('PRESENCE_MESSAGING_PUBLISHERS', 'frontEnd.messagingPublishers')),
      auth: {
        mode: oneOf('PRESENCE_SIP_AUTH', get('PRESENCE_SIP_AUTH', 'frontEnd.auth.mode'), ['off', 'digest', 'trusted-only'] as const, 'off'),
        realm: str(get('PRESENCE_SIP_REALM', 'frontEnd.auth.realm')) ?? 'presence',
        nonceSecret: secret('PRESENCE_SIP_NONCE_SECRET', 'frontEnd.auth.nonceSecret'),
        nonceLifetimeS: int('PRESENCE_SIP_NONCE_LIFETIME_S', get('PRESENCE_SIP_NONCE_LIFETIME_S', 'frontEnd.auth.nonceLifetimeS'), 300),
        trustedProxies: commaList(get('PRESENCE_SIP_TRUSTED_PROXIES', 'frontEnd.auth.trustedProxies')),
        trustedProxyNames: commaList(get('PRESENCE_SIP_TRUSTED_PROXY_NAMES', 'frontEnd.auth.trustedProxyNames')),
        replayCheck: oneOf(
          'PRESENCE_SIP_REPLAY_CHECK',
          get('PRESENCE_SIP_REPLAY_CHECK', 'frontEnd.auth.replayCheck'),
          ['instance', 'shared'] as const,
          'shared',
        ),
        algorithms: commaList(get('PRESENCE_SIP_DIGEST_ALGORITHMS', 'frontEnd.auth.algorithms'), ['SHA-256', 'MD5']).map((a) => {
          const u = a.toUpperCase();
          if (u !== 'SHA-256' && u !== 'MD5') throw new Error(`setting PRESENCE_SIP_DIGEST_ALGORITHMS: ${a} is not SHA-256 or MD5`);
          return u;
        }),
      },
      limits: {
        requestsPerSecond: nonNegativeInt('PRESENCE_SIP_RATE_LIMIT', get('PRESENCE_SIP_RATE_LIMIT', 'frontEnd.limits.requestsPerSecond'), 0),
        burst:
          get('PRESENCE_SIP_RATE_BURST', 'frontEnd.limits.burst') === undefined
            ? undefined
            : int('PRESENCE_SIP_RATE_BURST', get('PRESENCE_SIP_RATE_BURST', 'frontEnd.limits.burst'), 1),
        exempt: commaList(get('PRESENCE_SIP_RATE_EXEMPT', 'frontEnd.limits.exempt')),
        maxTcpConnectionsPerSource: int(
          'PRESENCE_SIP_MAX_TCP_PER_SOURCE',
          get('PRESENCE_SIP_MAX_TCP_PER_SOURCE', 'frontEnd.limits.maxTcpConnectionsPerSource'),
          100,
        ),
        maxTcpConnections: int('PRESENCE_SIP_MAX_TCP', get('PRESENCE_SIP_MAX_TCP', 'frontEnd.limits.maxTcpConnections'), 10_000),
        messageReadTimeoutMs: int('PRESENCE_SIP_READ_TIMEOUT_MS', get('PRESENCE_SIP_READ_TIMEOUT_MS', 'frontEnd.limits.messageReadTimeoutMs'), 10_000),
        maxTransactions: int('PRESENCE_SIP_MAX_TRANSACTIONS', get('PRESENCE_SIP_MAX_TRANSACTIONS', 'frontEnd.limits.maxTransactions'), 150_000),
        tcpIdleTimeoutS: int('PRESENCE_SIP_TCP_IDLE_TIMEOUT_S', get('PRESENCE_SIP_TCP_IDLE_TIMEOUT_S', 'frontEnd.limits.tcpIdleTimeoutS'), 120),
        maxMessageBytes: int('PRESENCE_SIP_MAX_MESSAGE_BYTES', get('PRESENCE_SIP_MAX_MESSAGE_BYTES', 'frontEnd.limits.maxMessageBytes'), 65_536),
      },
      tls: {
        port: nonNegativeInt('PRESENCE_SIP_TLS_PORT', get('PRESENCE_SIP_TLS_PORT', 'frontEnd.tls.port'), 5061),
        certFile: str(get('PRESENCE_SIP_TLS_CERT_FILE', 'frontEnd.tls.certFile')),
        keyFile: str(get('PRESENCE_SIP_TLS_KEY_FILE', 'frontEnd.tls.keyFile')),
        keyPassphrase: secret('PRESENCE_SIP_TLS_KEY_PASSPHRASE', 'frontEnd.tls.keyPassphrase'),
        clientCaFile: str(get('PRESENCE_SIP_TLS_CLIENT_CA_FILE', 'frontEnd.tls.clientCaFile')),
      },
    },
    notifySink: {
      maxOutageS: nonNegativeInt('PRESENCE_NOTIFY_SINK_MAX_OUTAGE_S', get('PRESENCE_NOTIFY_SINK_MAX_OUTAGE_S', 'notifySink.maxOutageS'), 0),
      contact: str(get('PRESENCE_NOTIFY_CONTACT', 'notifySink.contact')),
      udpMaxRequestBytes: int('PRESENCE_NOTIFY_UDP_MAX_BYTES', get('PRESENCE_NOTIFY_UDP_MAX_BYTES', 'notifySink.udpMaxRequestBytes'), 1300),
      dnsServers: commaList(get('PRESENCE_NOTIFY_DNS_SERVERS', 'notifySink.dnsServers')),
      tls: {
        caFile: str(get('PRESENCE_NOTIFY_TLS_CA_FILE', 'notifySink.tls.caFile')),
        certFile: str(get('PRESENCE_NOTIFY_TLS_CERT_FILE', 'notifySink.tls.certFile')),
        keyFile: str(get('PRESENCE_NOTIFY_TLS_KEY_FILE', 'notifySink.tls.keyFile')),
        keyPassphrase: secret('PRESENCE_NOTIFY_TLS_KEY_PASSPHRASE', 'notifySink.tls.keyPassphrase'),
      },
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
    `kafka security  ${describeKafkaSecurity(s.kafka.security)}`,
    `schema registry ${s.registry.url}${s.registry.external ? ' (external)' : ' (local stack)'}${
      s.registry.username ? `, basic auth ${s.registry.username} / password ${masked(s.registry.password)}` : ''
    }`,
    `database        ${maskedUrl(s.database.url)}`,
    `identity        country code ${s.identity.countryCode || '(none: national numbers keyed by their digits)'}, unknown subscribers: ${s.identity.unknownSubscribers}`,
    `topics          prefix "${s.topics.prefix}", ${s.topics.partitions} partitions, replication ${s.topics.replicationFactor}`,
  ];
}

/** The security settings with every secret masked. */
export function describeKafkaSecurity(k: KafkaSecurity): string {
  const parts: string[] = [k.protocol];
  if (k.protocol.startsWith('SASL_')) {
    parts.push(k.saslMechanism);
    if (k.saslMechanism === 'OAUTHBEARER')
      parts.push(...Object.keys(k.oauthbearer).map((key) => `${key}=${OAUTHBEARER_SECRETS.includes(key) ? '****' : k.oauthbearer[key]}`));
    else parts.push(`user ${k.username ?? '(unset)'}`, `password ${masked(k.password)}`);
  }
  if (k.protocol.endsWith('SSL')) {
    parts.push(`CA ${k.caFile ?? '(system)'}`);
    if (k.certFile) parts.push(`client cert ${k.certFile}`, `key ${k.keyFile ?? '(unset)'}`, `key password ${masked(k.keyPassword)}`);
    parts.push(k.verifyHostname ? 'hostname verified' : 'hostname NOT verified');
  }
  return parts.join(', ');
}
