// The SIP decoder refuses bare control characters in the start line and headers
// (they would reach identities, Kafka keys and SQL parameters) but keeps what
// RFC 3261 allows: HTAB, and a quoted-pair inside a display name (RFC 4475 §3.1.1.2).
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../layer.ts';
import { withoutControlCharacters } from './controlCharacters.ts';
import { parseSipMessage } from './message.ts';

const message = (from: string, ruri = 'sip:alice@example.com') =>
  Buffer.from(
    [
      `SUBSCRIBE ${ruri} SIP/2.0`,
      'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1',
      `From: ${from};tag=1`,
      'To: <sip:alice@example.com>',
      'Call-ID: c1',
      'CSeq: 1 SUBSCRIBE',
      '',
      '',
    ].join('\r\n'),
    'utf8',
  );

function refusal(buf: Buffer): DecodeError {
  try {
    parseSipMessage(buf);
  } catch (err) {
    if (err instanceof DecodeError) return err;
    throw err;
  }
  throw new Error('accepted');
}

describe('control characters in SIP', () => {
  it('refuses a NUL in From, a control character in the Request-URI and DEL in a header, naming the line', () => {
    expect(refusal(message('<sip:wat\u0000cher@example.com>'))).toMatchObject({
      layer: 'sip',
      reason: 'malformed',
      message: expect.stringMatching(/control character 0x00 in line 3/),
    });
    expect(refusal(message('<sip:w@example.com>', 'sip:ali\u001bce@example.com')).message).toMatch(/control character 0x1b in line 1/);
    expect(refusal(message('<sip:w@example.com>\u007f')).message).toMatch(/0x7f/);
  });

  it('accepts HTAB and a quoted-pair control character in a display name', () => {
    expect(parseSipMessage(message('"A\tB" <sip:w@example.com>')).from?.uri).toBe('sip:w@example.com');
    expect(parseSipMessage(message('"NUL:\\\u0000" <sip:w@example.com>')).from?.uri).toBe('sip:w@example.com');
  });

  it('strips control characters from what we copy back', () => {
    expect(withoutControlCharacters('<sip:wat\u0000ch\u007fer@example.com>\t;tag=1')).toBe('<sip:watcher@example.com>\t;tag=1');
  });
});
