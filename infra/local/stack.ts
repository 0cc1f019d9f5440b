// `presence stack up | down | status`: the embedded default stack — a KRaft
// Kafka broker, Apicurio Registry (Confluent API) and the machine's
// PostgreSQL — started idempotently and waited for until each part answers.
import type { Settings } from '../../config/settings.ts';
import { brokerAnswers } from '../../kafka/kafkaAdmin.ts';
import { databaseAnswers, ensureDatabase } from './database.ts';
import { maskedUrl } from '../../config/secrets.ts';
import { kafkaProcess, startKafka } from './kafkaBroker.ts';
import { residentMb, runningPid, stopProcess } from './processes.ts';
import { registryAnswers, registryProcess, startRegistry } from './schemaRegistry.ts';
import { useKafkaSecurity } from '../../kafka/kafkaSecurity.ts';
import { prepareSaslSslListener, recordStackKafkaSecurity, resolveStackKafkaSecurity, type StackKafkaSecurity } from './stackKafkaSecurity.ts';
import { rmSync } from 'node:fs';
import { stackClientSecurityFile } from '../../config/settings.ts';
import { connectAnswers, connectProcess, connectUrl, startConnectWorker, stopConnectWorker } from '../connect/connectWorker.ts';

interface PartStatus {
  part: 'kafka' | 'schema-registry' | 'postgresql' | 'kafka-connect';
  address: string;
  managed: boolean; // started by this stack (false: external or the machine's own)
  running: boolean;
  answering: boolean;
  pid?: number;
  memoryMb?: number;
  log?: string;
  readyMs?: number;
}

/** Database name of the project's own database (from the URL). */
function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'presence';
}

export interface StackUpOptions {
  withConnect?: boolean;
  /** The embedded broker's client listener; unset: as its storage was formatted (plaintext for a new one). */
  kafkaSecurity?: StackKafkaSecurity;
}

export async function stackUp(s: Settings, log: (line: string) => void, opts: StackUpOptions = {}): Promise<PartStatus[]> {
  const out: PartStatus[] = [];

  const db = await ensureDatabase(s.database.adminUrl, databaseName(s.database.url));
  log(`postgresql: database ${databaseName(s.database.url)} ${db} at ${maskedUrl(s.database.url)}`);
  out.push({ part: 'postgresql', address: maskedUrl(s.database.url), managed: false, running: true, answering: true });

  // The registry keeps its schemas in PostgreSQL, not in Kafka, so both start at once.
  const [kafka, registry] = await Promise.all([startKafkaPart(s, log, opts.kafkaSecurity), startRegistryPart(s, log)]);
  out.push(kafka, registry);
  if (opts.withConnect) {
    // Connect needs the broker (its configs live in topics) and reads schemas from the registry.
    const c = await startConnectWorker(s, log);
    log(`kafka-connect: ${c.alreadyRunning ? 'already running' : `started in ${(c.readyMs / 1000).toFixed(1)}s`} at ${c.url} (pid ${c.pid})`);
    out.push({
      part: 'kafka-connect',
      address: c.url,
      managed: true,
      running: true,
      answering: true,
      pid: c.pid,
      readyMs: c.readyMs,
      log: connectProcess(s).logFile,
    });
  }
  return out;
}

async function startKafkaPart(s: Settings, log: (line: string) => void, asked: StackKafkaSecurity | undefined): Promise<PartStatus> {
  if (s.kafka.external) {
    if (asked)
      throw new Error(
        '--kafka-security is for the embedded broker; the configured external cluster is secured by its own settings (PRESENCE_KAFKA_SECURITY_PROTOCOL, …)',
      );
    const ok = await brokerAnswers(s.kafka.brokers);
    if (!ok) throw new Error(`the configured Kafka cluster (${s.kafka.brokers}) does not answer`);
    log(`kafka: using external cluster ${s.kafka.brokers}`);
    return { part: 'kafka', address: s.kafka.brokers, managed: false, running: true, answering: true };
  }
  const choice = resolveStackKafkaSecurity(s.home, asked);
  let listener;
  if (choice === 'sasl-ssl' && runningPid(kafkaProcess(s)) === undefined) {
    const prepared = await prepareSaslSslListener(s);
    listener = prepared.listener;
    // This process's clients (the readiness check, Connect) use what was just written.
    useKafkaSecurity(prepared.client);
  }
  if (choice === 'plaintext') rmSync(stackClientSecurityFile(s.home), { force: true });
  const k = await startKafka(s, log, () => brokerAnswers(s.kafka.brokers), listener);
  recordStackKafkaSecurity(s.home, choice);
  const secured = choice === 'sasl-ssl' ? ` (SASL_SSL, SCRAM-SHA-512 user presence; clients read ${stackClientSecurityFile(s.home)})` : '';
  log(`kafka: ${k.alreadyRunning ? 'already running' : `started in ${(k.readyMs / 1000).toFixed(1)}s`} at ${s.kafka.brokers} (pid ${k.pid})${secured}`);
  return {
    part: 'kafka',
    address: s.kafka.brokers,
    managed: true,
    running: true,
    answering: true,
    pid: k.pid,
    readyMs: k.readyMs,
    log: kafkaProcess(s).logFile,
  };
}

async function startRegistryPart(s: Settings, log: (line: string) => void): Promise<PartStatus> {
  if (s.registry.external) {
    const ok = await registryAnswers(s.registry.url).catch(() => false);
    if (!ok) throw new Error(`the configured schema registry (${s.registry.url}) does not answer`);
    log(`schema-registry: using external registry ${s.registry.url}`);
    return { part: 'schema-registry', address: s.registry.url, managed: false, running: true, answering: true };
  }
  const r = await startRegistry(s, log);
  log(`schema-registry: ${r.alreadyRunning ? 'already running' : `started in ${(r.readyMs / 1000).toFixed(1)}s`} at ${s.registry.url} (pid ${r.pid})`);
  return {
    part: 'schema-registry',
    address: s.registry.url,
    managed: true,
    running: true,
    answering: true,
    pid: r.pid,
    readyMs: r.readyMs,
    log: registryProcess(s).logFile,
  };
}

export async function stackDown(s: Settings, log: (line: string) => void): Promise<void> {
  // Connect first: it is a client of both.
  const connect = await stopConnectWorker(s);
  if (connect !== 'not running') log(`kafka-connect: ${connect}`);
  // Registry first: it is a client of nothing we stop, but stopping it first keeps its log clean.
  if (!s.registry.external) log(`schema-registry: ${await stopProcess(registryProcess(s))}`);
  if (!s.kafka.external) log(`kafka: ${await stopProcess(kafkaProcess(s), 60_000)}`);
  log("postgresql: left running (it is the machine's own server)");
}

export async function stackStatus(s: Settings): Promise<PartStatus[]> {
  const kPid = s.kafka.external ? undefined : runningPid(kafkaProcess(s));
  const rPid = s.registry.external ? undefined : runningPid(registryProcess(s));
  const [kOk, rOk, dbOk] = await Promise.all([
    brokerAnswers(s.kafka.brokers),
    registryAnswers(s.registry.url).catch(() => false),
    databaseAnswers(s.database.url),
  ]);
  return [
    {
      part: 'kafka',
      address: s.kafka.brokers,
      managed: !s.kafka.external,
      running: s.kafka.external ? kOk : kPid !== undefined,
      answering: kOk,
      pid: kPid,
      memoryMb: kPid ? residentMb(kPid) : undefined,
      log: s.kafka.external ? undefined : kafkaProcess(s).logFile,
    },
    {
      part: 'schema-registry',
      address: s.registry.url,
      managed: !s.registry.external,
      running: s.registry.external ? rOk : rPid !== undefined,
      answering: rOk,
      pid: rPid,
      memoryMb: rPid ? residentMb(rPid) : undefined,
      log: s.registry.external ? undefined : registryProcess(s).logFile,
    },
    { part: 'postgresql', address: maskedUrl(s.database.url), managed: false, running: dbOk, answering: dbOk },
    ...(await connectStatus(s)),
  ];
}

/** The worker's row, when it runs (it is optional: `stack up --with-connect`). */
async function connectStatus(s: Settings): Promise<PartStatus[]> {
  const pid = runningPid(connectProcess(s));
  if (pid === undefined) return [];
  const url = connectUrl(s);
  const ok = await connectAnswers(url).catch(() => false);
  return [{ part: 'kafka-connect', address: url, managed: true, running: true, answering: ok, pid, memoryMb: residentMb(pid), log: connectProcess(s).logFile }];
}

export function formatStatus(parts: PartStatus[]): string {
  const rows = parts.map((p) => {
    const state = p.answering ? 'up' : p.running ? 'starting/not answering' : 'down';
    const extra = [
      p.pid ? `pid ${p.pid}` : '',
      p.memoryMb ? `${p.memoryMb} MiB RSS` : '',
      p.managed ? '' : 'not managed by the stack',
      p.log ? `log ${p.log}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    return `${p.part.padEnd(16)} ${state.padEnd(8)} ${p.address}${extra ? `  (${extra})` : ''}`;
  });
  return rows.join('\n');
}
