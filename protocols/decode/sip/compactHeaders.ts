// Compact header forms (RFC 3261 §7.3.3 and extensions, IANA "Header Fields"
// registry) mapped to the lower-cased full name the parser stores headers under.

const COMPACT_HEADER_FORMS: Readonly<Record<string, string>> = {
  a: 'accept-contact', // RFC 3841
  b: 'referred-by', // RFC 3892
  c: 'content-type',
  d: 'request-disposition', // RFC 3841
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact', // RFC 3841
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  n: 'identity-info', // RFC 4474 (obsoleted by RFC 8224, still seen)
  o: 'event', // RFC 6665
  r: 'refer-to', // RFC 3515
  s: 'subject',
  t: 'to',
  u: 'allow-events', // RFC 6665
  v: 'via',
  x: 'session-expires', // RFC 4028
  y: 'identity', // RFC 8224
};

/** Lower-cased full header name for a raw (possibly compact, any-case) name. */
export function canonicalHeaderName(raw: string): string {
  const lower = raw.toLowerCase();
  return lower.length === 1 ? (COMPACT_HEADER_FORMS[lower] ?? lower) : lower;
}
