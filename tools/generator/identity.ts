// Who exists: subscriber i's IMSI, MSISDN and IMS public identity follow
// from the index and the numbering options alone, so any process (tests,
// the demo, a consumer checking output) can name the population.

export interface NumberingOptions {
  /** E.164 country code, digits only (default 999: ITU spare, cannot collide with a real number). */
  countryCode?: string;
  /** Mobile country/network code of the IMSI (default 001/01, the ITU test network). */
  mcc?: string;
  mnc?: string;
}

export interface SubscriberIdentity {
  imsi: string;
  msisdn: string;
  /** SIP address of record, sip:+<msisdn>@ims.example.net */
  aor: string;
}

export const IMS_DOMAIN = 'ims.example.net';
/** Digits of the subscriber number after the country code and the mobile prefix. */
const SN_DIGITS = 9;

export function numbering(opts: NumberingOptions): Required<NumberingOptions> {
  const countryCode = opts.countryCode ?? '999';
  const mcc = opts.mcc ?? '001';
  const mnc = opts.mnc ?? '01';
  if (!/^\d{1,3}$/.test(countryCode)) throw new Error(`countryCode must be 1-3 digits: ${countryCode}`);
  if (!/^\d{3}$/.test(mcc)) throw new Error(`mcc must be 3 digits: ${mcc}`);
  if (!/^\d{2,3}$/.test(mnc)) throw new Error(`mnc must be 2-3 digits: ${mnc}`);
  return { countryCode, mcc, mnc };
}

export function subscriberMsisdn(index: number, countryCode: string): string {
  // Mobile prefix 7 keeps subscribers apart from node and PSTN numbers.
  return `${countryCode}7${String(index).padStart(SN_DIGITS, '0')}`;
}

export function subscriberImsi(index: number, mcc: string, mnc: string): string {
  return `${mcc}${mnc}${String(index).padStart(15 - mcc.length - mnc.length, '0')}`;
}

export function subscriberIdentity(index: number, opts: NumberingOptions = {}): SubscriberIdentity {
  if (!Number.isInteger(index) || index < 0 || index >= 10 ** SN_DIGITS) throw new Error(`subscriber index out of range: ${index}`);
  const n = numbering(opts);
  const msisdn = subscriberMsisdn(index, n.countryCode);
  return { imsi: subscriberImsi(index, n.mcc, n.mnc), msisdn, aor: `sip:+${msisdn}@${IMS_DOMAIN}` };
}
