// The long-running commands' log: levels, one JSON object per line when stderr
// is not a terminal (what log shippers read), readable text on a terminal, and
// context fields (component, member id, host, pid) on every line. Modules below
// the CLI take a plain `log(line)` callback; `line` gives each its level: lines
// saying something failed are warnings, per-record lines (--verbose) debug.
import { hostname } from 'node:os';
import { setKafkaClientLogSink, type LogLevel } from '../kafka/clientLog.ts';
import { setCertificateReloadLogSink } from '../protocols/tls/certificateReloader.ts';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
export const LOG_LEVELS = Object.keys(RANK) as LogLevel[];

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void;
  /** The same logger with more context fields. */
  child(fields: Record<string, unknown>): Logger;
  /** A module's `log(line)` callback: the level read from what the line says. */
  readonly line: (line: string) => void;
}

export interface LoggerOptions {
  level: LogLevel;
  format: 'json' | 'text';
  stream?: { write(s: string): unknown };
  fields?: Record<string, unknown>;
  now?: () => Date;
}

/**
 * Subscriber identities in a line, masked: who watches whom and who calls is
 * personal data, kept to debug (an operator turns it on to chase one case).
 * SIP/tel URIs keep their scheme, first two characters and domain; keys their
 * kind and last three digits.
 */
export function redactIdentities(text: string): string {
  return text
    .replace(
      /\b(sips?|tel):([^@\s;>,)"']+)(@[^\s;>,)"']+)?/gi,
      (_, scheme: string, user: string, host: string | undefined) => `${scheme}:${user.slice(0, 2)}***${host ?? ''}`,
    )
    .replace(/\b(msisdn|imsi):(\+?)(\d+)/gi, (_, kind: string, plus: string, digits: string) => `${kind}:${plus}***${digits.slice(-3)}`);
}

/** What a module's plain line means: failures are warnings, the rest is news. */
export function levelOfLine(line: string): LogLevel {
  if (/\b(fatal|must stop|stopping after|cannot start)\b/i.test(line)) return 'error';
  if (/\b(fail(ed|s|ure)?|error|refused|cannot|unreachable|timed out|aborted|lost|gave up|not ready)\b/i.test(line)) return 'warn';
  return 'info';
}

export function createLogger(o: LoggerOptions): Logger {
  const stream = o.stream ?? process.stderr;
  const now = o.now ?? (() => new Date());
  const base = o.fields ?? {};
  const make = (ctx: Record<string, unknown>): Logger => {
    const log = (level: LogLevel, raw: string, fields: Record<string, unknown> = {}) => {
      if (RANK[level] < RANK[o.level]) return;
      const msg = level === 'debug' ? raw : redactIdentities(raw);
      const time = now().toISOString();
      if (o.format === 'json') {
        stream.write(`${JSON.stringify({ time, level, ...ctx, ...fields, msg })}\n`);
        return;
      }
      const extra = Object.entries(fields)
        .map(([k, v]) => ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join('');
      stream.write(`${time} ${level.toUpperCase().padEnd(5)} ${msg}${extra}\n`);
    };
    return {
      log,
      debug: (m, f) => log('debug', m, f),
      info: (m, f) => log('info', m, f),
      warn: (m, f) => log('warn', m, f),
      error: (m, f) => log('error', m, f),
      child: (fields) => make({ ...ctx, ...fields }),
      line: (l) => log(levelOfLine(l), l),
    };
  };
  return make({ ...base });
}

export function parseLogLevel(name: string, value: string): LogLevel {
  if ((LOG_LEVELS as string[]).includes(value)) return value as LogLevel;
  throw new Error(`${name} must be one of ${LOG_LEVELS.join(', ')}, not ${JSON.stringify(value)}`);
}

/** The logger of a long-running command, from the settings (PRESENCE_LOG_LEVEL, PRESENCE_LOG_FORMAT). */
export function processLogger(component: string, s: { log: { level: LogLevel; format: 'json' | 'text' | 'auto' } }): Logger {
  const format = s.log.format === 'auto' ? (process.stderr.isTTY ? 'text' : 'json') : s.log.format;
  return createLogger({ level: s.log.level, format, fields: { component, host: hostname(), pid: process.pid } });
}

/** A command's log callback; `fields` adds context (a member id) once it is known. */
export interface CommandLog {
  (line: string): void;
  /** Makes the logger now (first thing in the command's action), so librdkafka's lines from its first connection attempts are kept. */
  start(): void;
  fields(extra: Record<string, unknown>): void;
  logger(): Logger;
}

/**
 * The log of one long-running command: made from the settings on first use
 * (so a bad PRESENCE_LOG_LEVEL is reported like any other setting), with
 * librdkafka's own log routed into it.
 */
export function commandLog(component: string, settings: () => { log: { level: LogLevel; format: 'json' | 'text' | 'auto' } }): CommandLog {
  let logger: Logger | undefined;
  // The logger in use is also where librdkafka's lines go.
  const use = (l: Logger): Logger => {
    logger = l;
    setKafkaClientLogSink((level, msg, f) => l.log(level, msg, f));
    setCertificateReloadLogSink((level, msg) => l.log(level, msg));
    return l;
  };
  const get = (): Logger => logger ?? use(processLogger(component, settings()));
  const say = ((line: string) => get().line(line)) as CommandLog;
  say.fields = (extra) => void use(get().child(extra));
  say.logger = get;
  say.start = () => void get();
  return say;
}
