// Stream framing on hand-built byte streams: every split point of a
// two-message stream must yield the same two messages.
import { describe, expect, it } from 'vitest';
import { SipStreamFramer } from './framer.ts';
import { parseSipMessage } from './message.ts';

function msg(callId: string, body = ''): string {
  return [
    'MESSAGE sip:bob@example.com SIP/2.0',
    'Via: SIP/2.0/TCP a.example.com;branch=z9hG4bK776',
    'From: <sip:alice@example.com>;tag=49583',
    'To: <sip:bob@example.com>',
    `Call-ID: ${callId}`,
    'CSeq: 1 MESSAGE',
    'Content-Type: text/plain',
    `l: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

describe('SipStreamFramer', () => {
  it('two messages per chunk, with a body containing an empty line', () => {
    const f = new SipStreamFramer();
    const out = f.push(Buffer.from(msg('a', 'hello\r\n\r\nworld') + msg('b')));
    expect(out.map((b) => parseSipMessage(b).callId)).toEqual(['a', 'b']);
    expect(parseSipMessage(out[0]!).body.toString()).toBe('hello\r\n\r\nworld');
    expect(f.pendingBytes).toBe(0);
  });

  it('every split point of the stream yields the same messages', () => {
    const stream = Buffer.from(msg('one', 'x'.repeat(40)) + '\r\n\r\n' + msg('two', 'é body'));
    for (let cut = 0; cut <= stream.length; cut++) {
      const f = new SipStreamFramer();
      const out = [...f.push(stream.subarray(0, cut)), ...f.push(stream.subarray(cut))];
      expect(out.map((b) => parseSipMessage(b).callId)).toEqual(['one', 'two']);
      expect(f.stats.garbageBytes).toBe(0);
    }
  });

  it('byte-at-a-time feeding', () => {
    const stream = Buffer.from(msg('p', 'payload') + msg('q'));
    const f = new SipStreamFramer();
    const out: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) out.push(...f.push(stream.subarray(i, i + 1)));
    expect(out.map((b) => parseSipMessage(b).callId)).toEqual(['p', 'q']);
  });

  it('CRLF keep-alives (RFC 5626 ping/pong) between messages are counted, not emitted', () => {
    const f = new SipStreamFramer();
    const out = f.push(Buffer.from('\r\n\r\n' + msg('k1') + '\r\n' + msg('k2') + '\r\n\r\n'));
    expect(out).toHaveLength(2);
    expect(f.stats.keepAlives).toBe(3);
  });

  it('resyncs after garbage (mid-message capture start) and counts skipped bytes', () => {
    const tail = 'ody bytes from a message we joined late\r\nContent-Length: 0\r\n\r\n';
    const f = new SipStreamFramer();
    const out = f.push(Buffer.from(tail + msg('after')));
    expect(out.map((b) => parseSipMessage(b).callId)).toEqual(['after']);
    expect(f.stats.garbageBytes).toBe(Buffer.byteLength(tail));
    expect(f.stats.resyncs).toBeGreaterThan(0);
  });

  it('binary junk then a message; oversize Content-Length is skipped', () => {
    const f = new SipStreamFramer({ maxMessageBytes: 1000 });
    const junk = Buffer.alloc(3000, 0xab);
    const big = 'INVITE sip:x@y SIP/2.0\r\nCall-ID: big\r\nContent-Length: 50000\r\n\r\n';
    const out = [...f.push(junk), ...f.push(Buffer.from(big + msg('ok')))];
    expect(out.map((b) => parseSipMessage(b).callId)).toEqual(['ok']);
    expect(f.stats.garbageBytes).toBeGreaterThanOrEqual(3000);
  });

  it('keeps waiting for a body that has not arrived', () => {
    const f = new SipStreamFramer();
    const s = Buffer.from(msg('w', '0123456789'));
    expect(f.push(s.subarray(0, s.length - 1))).toEqual([]);
    expect(f.pendingBytes).toBe(s.length - 1);
    expect(f.push(s.subarray(s.length - 1))).toHaveLength(1);
  });

  it('strict: stops at conflicting Content-Lengths or an oversize message and delivers nothing after; lenient resyncs', () => {
    const hidden = msg('hidden');
    const smuggler = msg('outer', hidden).replace('\r\n\r\n', '\r\nContent-Length: 0\r\n\r\n');
    const lenient = new SipStreamFramer();
    const chunks = lenient.push(Buffer.from(smuggler + msg('next')));
    expect(chunks).toHaveLength(2); // the first length wins, so the hidden request stays a body...
    expect(() => parseSipMessage(chunks[0]!)).toThrow(/conflicting Content-Length/); // ...which the parser refuses
    const strict = new SipStreamFramer({ strict: true });
    expect(strict.push(Buffer.from(msg('before') + smuggler + msg('next')))).toHaveLength(1);
    expect(strict.failure?.reason).toBe('conflicting-content-length');
    expect(strict.failure?.head.toString()).toContain('Call-ID: outer');
    expect(strict.push(Buffer.from(msg('later')))).toEqual([]);

    const small = new SipStreamFramer({ strict: true, maxMessageBytes: 500 });
    expect(small.push(Buffer.from(msg('big', 'x'.repeat(600)) + msg('after')))).toEqual([]);
    expect(small.failure?.reason).toBe('too-large');
  });
});
