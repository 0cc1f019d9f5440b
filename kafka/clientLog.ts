// librdkafka's own log (connection failures, broker state, fencing) routed into
// the process's structured log instead of being dropped: node-rdkafka emits it
// as 'event.log' on each client, and nobody listened. The process sets one
// sink (the CLI's logger); every client made by kafka/ and its users routes to it.

import { watchClientStats } from './clientStats.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
type Sink = (level: LogLevel, message: string, fields: Record<string, unknown>) => void;

let sink: Sink | undefined;

export function setKafkaClientLogSink(s: Sink | undefined): void {
  sink = s;
}

/** librdkafka's syslog severities (0 emerg … 7 debug) as our levels. */
export function levelOfSeverity(severity: number): LogLevel {
  return severity <= 3 ? 'error' : severity === 4 ? 'warn' : severity <= 6 ? 'info' : 'debug';
}

interface LogEmitter {
  on(event: 'event.log', listener: (e: { severity: number; fac: string; message: string }) => void): unknown;
}

/**
 * Sends a client's librdkafka log lines to the sink, tagged with the client's id, and keeps
 * its statistics for the admin port (clientStats.ts): every client of ours passes here.
 */
export function routeClientLog<C extends LogEmitter>(client: C, clientId: string): C {
  client.on('event.log', (e) => sink?.(levelOfSeverity(e.severity), e.message, { source: 'librdkafka', facility: e.fac, client: clientId }));
  watchClientStats(client as unknown as Parameters<typeof watchClientStats>[0], clientId);
  return client;
}

/** A line of ours about a client (a transaction aborted and written again), to the same sink. */
export function clientLog(level: LogLevel, message: string, clientId: string): void {
  sink?.(level, message, { source: 'presence', client: clientId });
}
