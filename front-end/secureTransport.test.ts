// RFC 5630 rules at the front end, and the Contact it gives per transport.
import { describe, expect, it } from 'vitest';
import { sipRequest } from '../test/support/frontEndRequests.ts';
import { frontEndContact, secureTransportRefusal } from './secureTransport.ts';

function subscribe(requestUri: string, contact: string, via = 'SIP/2.0/TLS 127.0.0.1:5071;branch=z9hG4bK-1') {
  return sipRequest('SUBSCRIBE', requestUri, [
    ['Via', via],
    ['From', '<sips:watcher@example.com>;tag=w1'],
    ['To', `<${requestUri}>`],
    ['Call-ID', 'c1'],
    ['CSeq', '1 SUBSCRIBE'],
    ['Contact', `<${contact}>`],
    ['Event', 'presence'],
  ]);
}

describe('secureTransportRefusal', () => {
  it('refuses a sips: Request-URI that arrived over UDP or TCP with 416 Unsupported URI Scheme', () => {
    const r = subscribe('sips:+351910000001@example.com;user=phone', 'sips:w@127.0.0.1:5071');
    for (const t of ['udp', 'tcp'] as const)
      expect(secureTransportRefusal(r, t)).toMatchObject({ status: 416, reason: expect.stringMatching(/^Unsupported URI Scheme/) });
    expect(secureTransportRefusal(r, 'tls')).toBeUndefined();
  });

  it('refuses a SUBSCRIBE for a sips: URI with a sip: Contact with 400, even over TLS; any other method is not checked', () => {
    const r = subscribe('sips:+351910000001@example.com;user=phone', 'sip:w@127.0.0.1:5070');
    expect(secureTransportRefusal(r, 'tls')).toMatchObject({ status: 400 });
    const options = sipRequest('OPTIONS', 'sips:example.com', [
      ['Via', 'SIP/2.0/TLS 127.0.0.1:5071;branch=z9hG4bK-2'],
      ['From', '<sips:w@example.com>;tag=1'],
      ['To', '<sips:example.com>'],
      ['Call-ID', 'c2'],
      ['CSeq', '1 OPTIONS'],
      ['Contact', '<sip:w@127.0.0.1>'],
    ]);
    expect(secureTransportRefusal(options, 'tls')).toBeUndefined();
  });

  it('lets sip: requests through on every transport, a sips: Contact included (its NOTIFYs then go over TLS)', () => {
    const r = subscribe('sip:+351910000001@example.com;user=phone', 'sips:w@127.0.0.1:5071', 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-3');
    for (const t of ['udp', 'tcp', 'tls'] as const) expect(secureTransportRefusal(r, t)).toBeUndefined();
  });
});

describe('frontEndContact', () => {
  const ports = { port: 5060, tlsPort: 5061 };
  it('over TLS names the TLS port: sips: for a sips: request, else sip:…;transport=tls', () => {
    expect(frontEndContact('10.0.0.1', ports, subscribe('sips:a@example.com', 'sips:w@h'), 'tls')).toBe('sips:10.0.0.1:5061');
    expect(frontEndContact('10.0.0.1', ports, subscribe('sip:a@example.com', 'sips:w@h'), 'tls')).toBe('sip:10.0.0.1:5061;transport=tls');
    expect(frontEndContact('::1', ports, subscribe('sips:a@example.com', 'sips:w@h'), 'tls')).toBe('sips:[::1]:5061');
  });
  it('over UDP and TCP as before: the shared port, ;transport=tcp when the Via says TCP', () => {
    expect(frontEndContact('10.0.0.1', ports, subscribe('sip:a@example.com', 'sip:w@h', 'SIP/2.0/UDP h;branch=z9hG4bK-4'), 'udp')).toBe('sip:10.0.0.1:5060');
    expect(frontEndContact('10.0.0.1', ports, subscribe('sip:a@example.com', 'sip:w@h', 'SIP/2.0/TCP h;branch=z9hG4bK-5'), 'tcp')).toBe(
      'sip:10.0.0.1:5060;transport=tcp',
    );
  });
});
