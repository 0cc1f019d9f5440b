import { describe, expect, it } from 'vitest';
import { headerOf, parseSippMessageTrace, receivedRequests } from './sippTrace.ts';

const crlf = (lines: string[]) => lines.join('\r\n');
// A body with a multi-byte character and a line that looks like a trace separator.
const BODY =
  '<presence entity="sip:joão@example.com"/>\n----------------------------------------------- 2026-01-01 00:00:00.000000\nUDP message received [3] bytes :\n\nabc';
const notify = (branch: string, cseq: number) =>
  crlf([
    'NOTIFY sip:watcher@127.0.0.1:5099 SIP/2.0',
    `Via: SIP/2.0/UDP 127.0.0.1:5080;branch=${branch}`,
    'From: <sip:alice@example.com>;tag=pa1',
    'To: <sip:watcher@example.com>;tag=w1',
    'Call-ID: dlg-1',
    `CSeq: ${cseq} NOTIFY`,
    'Subscription-State: active;',
    ' expires=600',
    'Content-Type: application/pidf+xml',
    `Content-Length: ${Buffer.byteLength(BODY)}`,
    '',
    BODY,
  ]);
const ok = crlf(['SIP/2.0 200 OK', 'Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK1', 'Call-ID: dlg-1', 'CSeq: 1 NOTIFY', 'Content-Length: 0', '', '']);
const received = (m: string, t: string) =>
  `----------------------------------------------- 2026-11-25 16:29:04.${t}\nUDP message received [${Buffer.byteLength(m)}] bytes :\n\n${m}\n\n`;
const sent = (m: string, t: string) =>
  `----------------------------------------------- 2026-11-25 16:29:04.${t}\nUDP message sent (${Buffer.byteLength(m)} bytes):\n\n${m}\n\n`;

describe('parseSippMessageTrace', () => {
  const log = Buffer.from(
    received(notify('z9hG4bK1', 1), '100000') + sent(ok, '100100') + received(notify('z9hG4bK1', 1), '600000') + received(notify('z9hG4bK2', 2), '700000'),
  );

  it('cuts each message by its byte length, whatever its body contains', () => {
    const ms = parseSippMessageTrace(log);
    expect(ms.map((m) => [m.direction, m.transport, m.startLine, m.time])).toEqual([
      ['received', 'UDP', 'NOTIFY sip:watcher@127.0.0.1:5099 SIP/2.0', '2026-11-25 16:29:04.100000'],
      ['sent', 'UDP', 'SIP/2.0 200 OK', '2026-11-25 16:29:04.100100'],
      ['received', 'UDP', 'NOTIFY sip:watcher@127.0.0.1:5099 SIP/2.0', '2026-11-25 16:29:04.600000'],
      ['received', 'UDP', 'NOTIFY sip:watcher@127.0.0.1:5099 SIP/2.0', '2026-11-25 16:29:04.700000'],
    ]);
    expect(ms[0]!.body).toBe(BODY);
    expect(ms[0]!.raw.toString()).toBe(notify('z9hG4bK1', 1));
    expect(ms[1]!.body).toBe('');
  });

  it('reads headers case-insensitively, with folded lines joined', () => {
    const [m] = parseSippMessageTrace(log);
    expect(headerOf(m!, 'subscription-state')).toBe('active; expires=600');
    expect(headerOf(m!, 'Call-ID', 'i')).toBe('dlg-1');
    expect(headerOf(m!, 'Expires')).toBeUndefined();
  });

  it('receivedRequests keeps one message per transaction (retransmissions dropped)', () => {
    expect(receivedRequests(parseSippMessageTrace(log), 'NOTIFY').map((m) => headerOf(m, 'CSeq'))).toEqual(['1 NOTIFY', '2 NOTIFY']);
    expect(receivedRequests(parseSippMessageTrace(log), 'SUBSCRIBE')).toEqual([]);
  });

  it('refuses a truncated log', () => {
    expect(() => parseSippMessageTrace(log.subarray(0, 300))).toThrow(/truncated/);
  });
});
