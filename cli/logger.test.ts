import { describe, expect, it } from 'vitest';
import { createLogger, levelOfLine, parseLogLevel } from './logger.ts';
import { levelOfSeverity, routeClientLog, setKafkaClientLogSink } from '../kafka/clientLog.ts';
import { EventEmitter } from 'node:events';

function capture(level: 'debug' | 'info' | 'warn' | 'error', format: 'json' | 'text') {
  const out: string[] = [];
  const log = createLogger({ level, format, stream: { write: (s: string) => out.push(s) }, fields: { component: 'event-manager' }, now: () => new Date(0) });
  return { log, out };
}

describe('structured log', () => {
  it('writes one JSON object per line with level, context fields and the message', () => {
    const { log, out } = capture('info', 'json');
    log.child({ memberId: 'em-1' }).info('partition 3: restored "x"', { partition: 3 });
    expect(out).toHaveLength(1);
    expect(JSON.parse(out[0]!)).toEqual({
      time: '1970-01-01T00:00:00.000Z',
      level: 'info',
      component: 'event-manager',
      memberId: 'em-1',
      partition: 3,
      msg: 'partition 3: restored "x"',
    });
  });

  it('drops what is below the level and keeps what is at or above it', () => {
    const { log, out } = capture('warn', 'text');
    log.debug('d');
    log.info('i');
    log.warn('w', { partition: 1 });
    log.error('e');
    expect(out).toEqual(['1970-01-01T00:00:00.000Z WARN  w partition=1\n', '1970-01-01T00:00:00.000Z ERROR e\n']);
  });

  it("reads a module's plain line's level from what it says", () => {
    expect(levelOfLine('partition 3: restored 10 subscribers')).toBe('info');
    expect(levelOfLine('batch aborted, re-reading 12 records: Broker: Not coordinator')).toBe('warn');
    expect(levelOfLine('delivery report failed: timed out')).toBe('warn');
    expect(levelOfLine('processor must stop: fenced')).toBe('error');
  });

  it('refuses an unknown level with the allowed ones named', () => {
    expect(parseLogLevel('--log-level', 'warn')).toBe('warn');
    expect(() => parseLogLevel('--log-level', 'verbose')).toThrow(/debug, info, warn, error/);
  });

  it("routes librdkafka's log lines into the sink with their severity as a level", () => {
    const got: unknown[] = [];
    setKafkaClientLogSink((level, msg, fields) => got.push({ level, msg, ...fields }));
    const client = routeClientLog(
      new EventEmitter() as EventEmitter & { on(e: 'event.log', l: (x: { severity: number; fac: string; message: string }) => void): unknown },
      'em-1',
    );
    client.emit('event.log', { severity: 3, fac: 'FAIL', message: '127.0.0.1:9092/1: Connect failed' });
    client.emit('event.log', { severity: 7, fac: 'FETCH', message: 'fetch' });
    setKafkaClientLogSink(undefined);
    expect(got).toEqual([
      { level: 'error', msg: '127.0.0.1:9092/1: Connect failed', source: 'librdkafka', facility: 'FAIL', client: 'em-1' },
      { level: 'debug', msg: 'fetch', source: 'librdkafka', facility: 'FETCH', client: 'em-1' },
    ]);
    expect([0, 3, 4, 5, 6, 7].map(levelOfSeverity)).toEqual(['error', 'error', 'warn', 'info', 'info', 'debug']);
  });
});

describe('personal data in the log', () => {
  it('is masked above debug and kept at debug', () => {
    const { log, out } = capture('debug', 'text');
    const line = 'group g1: SUBSCRIBE from sip:alice@example.com refused (PUBLISH for msisdn:+351910000042, tel:+351910000042)';
    log.warn(line);
    log.debug(line);
    expect(out[0]).toContain('SUBSCRIBE from sip:al***@example.com refused (PUBLISH for msisdn:+***042, tel:+3***)');
    expect(out[0]).not.toMatch(/alice|910000042/);
    expect(out[1]).toContain(line);
  });
});
