// Identity normalisation: hand-worked examples per numbering plan (E.164,
// RFC 3966 tel URIs, RFC 3261 user=phone) and the documented key precedence.
import { describe, expect, it } from 'vitest';
import { sipAor, uriIdentity } from './aor.ts';
import { isValidImsi, normalizeImsi } from './imsi.ts';
import { normalizeMsisdn } from './msisdn.ts';
import { subscriberKey } from './subscriberKey.ts';

const de = { countryCode: '49' };
const us = { countryCode: '1', nationalPrefix: '1', internationalPrefix: '011' };
const dk = { countryCode: '45', nationalPrefix: '', bareDigits: 'national' as const };

describe('normalizeMsisdn', () => {
  it('international, national and bare forms', () => {
    expect(normalizeMsisdn('+49 170 1234567', de)).toBe('491701234567');
    expect(normalizeMsisdn('0049-170-1234567', de)).toBe('491701234567');
    expect(normalizeMsisdn('0170 1234567', de)).toBe('491701234567');
    expect(normalizeMsisdn('491701234567', de)).toBe('491701234567'); // MAP international nature
    expect(normalizeMsisdn('(212) 555-1212', { ...us, bareDigits: 'national' })).toBe('12125551212');
    expect(normalizeMsisdn('1-212-555-1212', us)).toBe('12125551212');
    expect(normalizeMsisdn('011 44 20 7946 0958', us)).toBe('442079460958');
    expect(normalizeMsisdn('35104723', dk)).toBe('4535104723');
    expect(normalizeMsisdn('0097239287044', dk)).toBe('97239287044');
  });
  it('rejects non-numbers and impossible E.164', () => {
    expect(normalizeMsisdn('alice', de)).toBeUndefined();
    expect(normalizeMsisdn('+0123', de)).toBeUndefined();
    expect(normalizeMsisdn('+1234567890123456', de)).toBeUndefined(); // 16 digits
    expect(normalizeMsisdn('', de)).toBeUndefined();
    expect(normalizeMsisdn('12*34#', de)).toBeUndefined();
  });
});

describe('IMSI', () => {
  it('14-15 digits only', () => {
    expect(isValidImsi('001011356567851')).toBe(true);
    expect(isValidImsi('40503702745134')).toBe(true);
    expect(isValidImsi('0010113565678')).toBe(false);
    expect(isValidImsi('0010113565678510')).toBe(false);
    expect(normalizeImsi('460 00 4100000101')).toBe('460004100000101');
    expect(normalizeImsi('46000410000010x')).toBeUndefined();
  });
});

describe('URI identities', () => {
  it('SIP AoR: sips→sip, host lower-case, user case kept, port/params/headers dropped', () => {
    expect(uriIdentity('sips:Alice@AtLanta.COM:5061;transport=tls?subject=x', de)).toEqual({ kind: 'aor', aor: 'sip:Alice@atlanta.com' });
    expect(uriIdentity('sip:voi18062@sip.cybercity.dk;transport=UDP', de)).toEqual({ kind: 'aor', aor: 'sip:voi18062@sip.cybercity.dk' });
    expect(uriIdentity('sip:example.com', de)).toEqual({ kind: 'aor', aor: 'sip:example.com' });
    expect(sipAor('sip:+4917012@ims.example.net;user=phone')).toBe('sip:+4917012@ims.example.net');
  });
  it('tel URIs and user=phone SIP URIs become MSISDNs (RFC 3966 / RFC 3261 §19.1.6)', () => {
    expect(uriIdentity('tel:+1-201-555-0123', us)).toEqual({ kind: 'msisdn', e164: '12015550123' });
    expect(uriIdentity('sip:+1-212-555-1212:1234@gateway.com;user=phone', us)).toEqual({ kind: 'msisdn', e164: '12125551212' });
    expect(uriIdentity('sip:+491701234567;npdi@ims.example.net;user=phone', de)).toEqual({ kind: 'msisdn', e164: '491701234567' });
    expect(uriIdentity('tel:863-1234;phone-context=+1-914-555', us)).toEqual({ kind: 'msisdn', e164: '19145558631234' });
    expect(uriIdentity('tel:7042;phone-context=Example.com', us)).toEqual({ kind: 'aor', aor: 'tel:7042;phone-context=example.com' });
    expect(uriIdentity('sip:01701234567@ims.example.net;user=phone', de)).toEqual({ kind: 'msisdn', e164: '491701234567' });
    // without user=phone a numeric user stays a SIP AoR (it may be an account name)
    expect(uriIdentity('sip:+491701234567@ims.example.net', de)).toEqual({ kind: 'aor', aor: 'sip:+491701234567@ims.example.net' });
    expect(uriIdentity('mailto:a@b', de)).toBeUndefined();
    expect(uriIdentity('garbage', de)).toBeUndefined();
  });
});

describe('subscriberKey precedence: MSISDN > IMSI > AoR', () => {
  it('picks by precedence and normalises', () => {
    expect(subscriberKey({ imsis: ['001011356567851'], msisdns: ['0170 1234567'], uris: ['sip:bob@x'] }, de)).toBe('msisdn:+491701234567');
    expect(subscriberKey({ imsis: ['001011356567851'], uris: ['sip:bob@x', 'tel:+491701234567'] }, de)).toBe('msisdn:+491701234567');
    expect(subscriberKey({ imsis: ['bad', '001011356567851'], uris: ['sip:bob@X'] }, de)).toBe('imsi:001011356567851');
    expect(subscriberKey({ uris: ['garbage', 'sip:bob@Example.COM;transport=tcp'] }, de)).toBe('aor:sip:bob@example.com');
    expect(subscriberKey({ msisdns: ['nope'], imsis: ['123'], uris: [] }, de)).toBeUndefined();
  });
});
