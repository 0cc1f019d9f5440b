import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../protocols/decode/layer.ts';
import { parseSipMessage } from '../../protocols/decode/sip/index.ts';
import { readThirdPartyRegister } from './thirdPartyRegister.ts';

const T = Date.UTC(2026, 0, 1);

// TS 24.229 §5.4.1.7: Request-URI the AS, From the S-CSCF, To the public user identity,
// Contact the S-CSCF, Expires what the UE was granted.
function thirdParty(expires: number, body?: { type: string; text: string }): Buffer {
  const lines = [
    'REGISTER sip:as.ims.test SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:6060;branch=z9hG4bK-3p1',
    'Max-Forwards: 70',
    'From: <sip:scscf.ims.test>;tag=s1',
    'To: <sip:+491701234567@ims.test;user=phone>',
    'Call-ID: 3p-1@scscf.ims.test',
    'CSeq: 7 REGISTER',
    'Contact: <sip:scscf.ims.test:6060>',
    `Expires: ${expires}`,
  ];
  if (body) lines.push(`Content-Type: ${body.type}`);
  const b = Buffer.from(body?.text ?? '');
  lines.push(`Content-Length: ${b.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), b]);
}

const UE_REGISTER = [
  'REGISTER sip:ims.test SIP/2.0',
  'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-ue',
  'From: <sip:+491701234567@ims.test;user=phone>;tag=u1',
  'To: <sip:+491701234567@ims.test;user=phone>',
  'Call-ID: ue-1@10.0.0.1',
  'CSeq: 3 REGISTER',
  'Contact: <sip:ue@10.0.0.1:5060>;expires=7200',
  'Contact: <sip:ue@10.0.0.9:5060>;expires=0',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

const REGISTER_200 = [
  'SIP/2.0 200 OK',
  'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-ue',
  'From: <sip:+491701234567@ims.test;user=phone>;tag=u1',
  'To: <sip:+491701234567@ims.test;user=phone>;tag=r1',
  'Call-ID: ue-1@10.0.0.1',
  'CSeq: 3 REGISTER',
  'Contact: <sip:ue@10.0.0.1:5060>;expires=3600',
  'Contact: <sip:ue@10.0.0.2:5060>;expires=120',
  'Content-Length: 0',
].join('\r\n');

describe('readThirdPartyRegister', () => {
  it('without a body: registered through the S-CSCF for what it granted', () => {
    const r = readThirdPartyRegister(parseSipMessage(thirdParty(3600)), T, 'udp:127.0.0.1:6060');
    expect(r.from).toBe('scscf-contact');
    expect(r.expires).toBe(3600);
    expect(r.facts).toMatchObject({
      aor: 'sip:+491701234567@ims.test;user=phone',
      tap: 'isc',
      eventId: 'isc:3p-1@scscf.ims.test:7',
      contacts: [{ uri: 'sip:scscf.ims.test:6060', expiresS: 3600 }],
    });
  });

  it("with the UE's REGISTER in message/sip: the UE's contacts for the granted time, a removed one left out", () => {
    const r = readThirdPartyRegister(parseSipMessage(thirdParty(3600, { type: 'message/sip', text: UE_REGISTER })), T, 'o');
    expect(r.from).toBe('register-body');
    expect(r.facts.contacts).toEqual([{ uri: 'sip:ue@10.0.0.1:5060', expiresS: 3600 }]);
    expect(r.facts.contentType).toBe('message/sip');
  });

  it("with the registrar's 200 in message/sip (no trailing empty line): every binding with its own expiry", () => {
    const r = readThirdPartyRegister(parseSipMessage(thirdParty(3600, { type: 'message/sip', text: REGISTER_200 })), T, 'o');
    expect(r.from).toBe('response-body');
    expect(r.facts.contacts).toEqual([
      { uri: 'sip:ue@10.0.0.1:5060', expiresS: 3600 },
      { uri: 'sip:ue@10.0.0.2:5060', expiresS: 120 },
    ]);
  });

  it('Expires 0 is the de-registration: no binding left', () => {
    const r = readThirdPartyRegister(parseSipMessage(thirdParty(0, { type: 'message/sip', text: UE_REGISTER })), T, 'o');
    expect(r.expires).toBe(0);
    expect(r.facts.contacts).toEqual([]);
  });

  it.each([
    ['a body that is not SIP', { type: 'message/sip', text: 'hello' }],
    ['a body that is an INVITE', { type: 'message/sip', text: UE_REGISTER.replace(/REGISTER/g, 'INVITE') }],
    ['a body that is a 403', { type: 'message/sip', text: REGISTER_200.replace('200 OK', '403 Forbidden') }],
  ])('refuses %s with a DecodeError', (_what, body) => {
    expect(() => readThirdPartyRegister(parseSipMessage(thirdParty(3600, body)), T, 'o')).toThrow(DecodeError);
  });

  it('refuses a REGISTER without Expires', () => {
    const noExpires = Buffer.from(thirdParty(3600).toString().replace('Expires: 3600\r\n', ''));
    expect(() => readThirdPartyRegister(parseSipMessage(noExpires), T, 'o')).toThrow(/without Expires/);
  });
});
