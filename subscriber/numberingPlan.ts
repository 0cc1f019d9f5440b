// The numbering plan the taps normalise numbers with, from settings.
import type { Settings } from '../config/settings.ts';
import type { NumberingPlan } from './identity/msisdn.ts';

export function numberingPlan(s: Settings, countryCodeOverride?: string): NumberingPlan {
  const countryCode = countryCodeOverride ?? s.identity.countryCode;
  if (countryCode && !/^[1-9]\d{0,2}$/.test(countryCode)) throw new Error(`country code must be 1-3 digits without + (e.g. 351), got ${countryCode}`);
  return { countryCode, nationalPrefix: s.identity.nationalPrefix, internationalPrefix: s.identity.internationalPrefix };
}
