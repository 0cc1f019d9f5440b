import { describe, expect, it } from 'vitest';
import { parseSipMessage } from '../protocols/decode/sip/index.ts';
import { contactVerified } from './contactCheck.ts';

const source = { transport: 'udp' as const, address: '192.0.2.10', port: 5070 };
const none = { authenticated: false, fromTrustedProxy: false, flowRouted: false };

function subscribe(contact: string | null, vias = ['SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bK1']): ReturnType<typeof parseSipMessage> {
  return parseSipMessage(
    Buffer.from(
      `SUBSCRIBE sip:alice@example.com SIP/2.0\r\n${vias.map((v) => `Via: ${v}\r\n`).join('')}From: <sip:w@example.com>;tag=1\r\nTo: <sip:alice@example.com>\r\n` +
        `Call-ID: c1\r\nCSeq: 1 SUBSCRIBE\r\n${contact ? `Contact: <${contact}>\r\n` : ''}Event: presence\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`,
    ),
  );
}

describe('contact check (no reflection, RFC 6665 §9)', () => {
  it('believes a Contact at the address and port the request came from', () => {
    expect(contactVerified(subscribe('sip:w@192.0.2.10:5070'), source, none)).toBe(true);
    expect(contactVerified(subscribe('sip:w@192.0.2.10:5070'), { ...source, address: '::ffff:192.0.2.10' }, none)).toBe(true);
  });

  it('does not believe an unauthenticated, direct SUBSCRIBE whose Contact names another address, port or a host name', () => {
    expect(contactVerified(subscribe('sip:victim@198.51.100.7:5060'), source, none)).toBe(false);
    expect(contactVerified(subscribe('sip:w@192.0.2.10:5999'), source, none)).toBe(false);
    expect(contactVerified(subscribe('sip:w@192.0.2.10'), source, none)).toBe(false); // default 5060 ≠ 5070
    expect(contactVerified(subscribe('sip:w@victim.example.net:5070'), source, none)).toBe(false);
    expect(contactVerified(subscribe(null), source, none)).toBe(false);
  });

  it('believes whatever someone vouched for: an authenticated user, a trusted proxy, a flow route — not a Via anyone could have written', () => {
    const far = subscribe('sip:w@198.51.100.7:5060');
    expect(contactVerified(far, source, { ...none, authenticated: true })).toBe(true);
    expect(contactVerified(far, source, { ...none, fromTrustedProxy: true })).toBe(true);
    expect(contactVerified(far, source, { ...none, flowRouted: true })).toBe(true);
    expect(
      contactVerified(
        subscribe('sip:w@198.51.100.7:5060', ['SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKp', 'SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKu']),
        source,
        none,
      ),
    ).toBe(false);
  });
});
