// MSISDN normalisation to E.164 (ITU-T E.164: country code + national
// significant number, at most 15 digits, no leading 0). Dialled forms seen in
// signalling: "+CC...", "00CC..." (international prefix), "0..." (national
// trunk prefix), visual separators from tel URIs (RFC 3966 §5.1.1).

export interface NumberingPlan {
  /** Country calling code of the home network, e.g. '49', '1', '45'. */
  countryCode: string;
  /** Trunk prefix for national numbers ('0' in most of Europe, '1' NANP, '' none). */
  nationalPrefix?: string;
  /** International call prefix ('00' ITU default, '011' NANP). */
  internationalPrefix?: string;
  /**
   * How to read digits with neither '+' nor a prefix: MAP ISDN-AddressStrings with
   * nature "international" arrive that way ('international', default); SIP user
   * parts in countries without trunk prefix look the same but are national.
   */
  bareDigits?: 'international' | 'national';
}

const SEPARATORS = /[\s\-.()\u00a0/]/g;

function isE164(digits: string): boolean {
  return /^[1-9]\d{0,14}$/.test(digits);
}

/** E.164 digits (no '+') or undefined when the input is not a usable phone number. */
export function normalizeMsisdn(input: string, plan: NumberingPlan): string | undefined {
  const nationalPrefix = plan.nationalPrefix ?? '0';
  const internationalPrefix = plan.internationalPrefix ?? '00';
  let s = input.replace(SEPARATORS, '');
  let e164: string;
  if (s.startsWith('+')) e164 = s.slice(1);
  else {
    if (!/^\d+$/.test(s)) return undefined;
    if (internationalPrefix && s.startsWith(internationalPrefix)) e164 = s.slice(internationalPrefix.length);
    else if (nationalPrefix && s.startsWith(nationalPrefix)) e164 = plan.countryCode + s.slice(nationalPrefix.length);
    else if ((plan.bareDigits ?? 'international') === 'national') e164 = plan.countryCode + s;
    else e164 = s;
  }
  s = e164;
  return isE164(s) ? s : undefined;
}
