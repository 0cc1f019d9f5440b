import { describe, expect, it } from 'vitest';
import { subscriberIdentity } from './identity.ts';

describe('subscriberIdentity', () => {
  it('derives IMSI, MSISDN and AoR from the index and numbering plan', () => {
    expect(subscriberIdentity(42, { countryCode: '44', mcc: '234', mnc: '15' })).toEqual({
      imsi: '234150000000042',
      msisdn: '447000000042',
      aor: 'sip:+447000000042@ims.example.net',
    });
    expect(subscriberIdentity(9_999_999)).toEqual({ imsi: '001010009999999', msisdn: '9997009999999', aor: 'sip:+9997009999999@ims.example.net' });
  });

  it('keeps 15-digit IMSIs with a three-digit MNC', () => {
    expect(subscriberIdentity(7, { mcc: '310', mnc: '260' }).imsi).toBe('310260000000007');
  });

  it('refuses bad indexes and numbering', () => {
    expect(() => subscriberIdentity(-1)).toThrow(/out of range/);
    expect(() => subscriberIdentity(1.5)).toThrow(/out of range/);
    expect(() => subscriberIdentity(1, { countryCode: '1234' })).toThrow(/countryCode/);
    expect(() => subscriberIdentity(1, { mcc: '01' })).toThrow(/mcc/);
  });
});
