// Parsers for the structured header values presence needs (CSeq, Via, Event,
// Subscription-State, Content-Type, Contact). Lenient: they return undefined
// instead of throwing, because one odd optional header should not make the
// message undecodable.
import { parseParams, parseUint, splitCommaList, valueAndParams } from './fieldValues.ts';
import { parseNameAddr, type NameAddr } from './nameAddr.ts';

export interface CSeq {
  readonly seq: number;
  readonly method: string;
}

export function parseCSeq(value: string): CSeq | undefined {
  const m = /^\s*(\d{1,10})\s+([!%*+`'~.\w-]+)\s*$/.exec(value);
  if (!m) return undefined;
  const seq = Number(m[1]);
  if (seq > 0xffffffff) return undefined; // RFC 3261 §8.1.1.5: < 2**31 when chosen, 32-bit on the wire
  return { seq, method: m[2]! };
}

export interface Via {
  /** e.g. 'SIP/2.0/UDP' */
  readonly protocol: string;
  /** Upper-cased transport: UDP, TCP, TLS, SCTP, WS, WSS... */
  readonly transport: string;
  readonly host: string;
  readonly port?: number;
  readonly branch?: string;
  readonly received?: string;
  /** null when rport is present without value */
  readonly rport?: number | null;
  readonly params: Readonly<Record<string, string | null>>;
}

export function parseVia(value: string): Via | undefined {
  const { value: head, params } = valueAndParams(value);
  // sent-protocol LWS sent-by; LWS is allowed around the '/' separators
  const m = /^([^\s/]+)\s*\/\s*([^\s/]+)\s*\/\s*(\S+)\s+(.+)$/.exec(head);
  if (!m) return undefined;
  const sentBy = m[4]!.trim();
  let host = sentBy;
  let port: number | undefined;
  if (sentBy.startsWith('[')) {
    const close = sentBy.indexOf(']');
    host = sentBy.slice(1, close < 0 ? undefined : close);
    if (close >= 0 && sentBy[close + 1] === ':') port = parseUint(sentBy.slice(close + 2));
  } else if (sentBy.indexOf(':') !== sentBy.lastIndexOf(':')) {
    // unbracketed IPv6 (invalid but seen): with 9 groups the last one is the port
    const groups = sentBy.split(':');
    if (groups.length === 9) {
      host = groups.slice(0, 8).join(':');
      port = parseUint(groups[8]);
    }
  } else {
    const c = sentBy.indexOf(':');
    if (c >= 0) {
      host = sentBy.slice(0, c).trim();
      port = parseUint(sentBy.slice(c + 1));
    }
  }
  const transport = m[3]!.toUpperCase();
  const via: { -readonly [K in keyof Via]: Via[K] } = {
    protocol: `${m[1]!.toUpperCase()}/${m[2]}/${transport}`,
    transport,
    host,
    params,
  };
  if (port !== undefined) via.port = port;
  if (params['branch']) via.branch = params['branch']!;
  if (params['received']) via.received = params['received']!;
  if ('rport' in params) via.rport = params['rport'] == null ? null : (parseUint(params['rport']) ?? null);
  return via;
}

export interface SipEvent {
  /** Full event-type as sent, e.g. 'presence', 'presence.winfo', 'message-summary'. */
  readonly type: string;
  /** Event package without template suffixes (RFC 6665 §8.2.4), e.g. 'presence'. */
  readonly package: string;
  /** Template packages, e.g. ['winfo'] for 'presence.winfo'. */
  readonly templates: readonly string[];
  readonly id?: string;
  readonly params: Readonly<Record<string, string | null>>;
}

export function parseEvent(value: string): SipEvent | undefined {
  const { value: type, params } = valueAndParams(value);
  if (type.length === 0) return undefined;
  const parts = type.split('.');
  const ev: { -readonly [K in keyof SipEvent]: SipEvent[K] } = { type, package: parts[0]!, templates: parts.slice(1), params };
  if (params['id']) ev.id = params['id']!;
  return ev;
}

export interface SubscriptionState {
  /** 'active' | 'pending' | 'terminated' or an extension value, lower-cased. */
  readonly state: string;
  readonly reason?: string;
  readonly expires?: number;
  readonly retryAfter?: number;
  readonly params: Readonly<Record<string, string | null>>;
}

export function parseSubscriptionState(value: string): SubscriptionState | undefined {
  const { value: state, params } = valueAndParams(value);
  if (state.length === 0) return undefined;
  const s: { -readonly [K in keyof SubscriptionState]: SubscriptionState[K] } = { state: state.toLowerCase(), params };
  if (params['reason']) s.reason = params['reason']!.toLowerCase();
  const expires = parseUint(params['expires']);
  if (expires !== undefined) s.expires = expires;
  const retry = parseUint(params['retry-after']);
  if (retry !== undefined) s.retryAfter = retry;
  return s;
}

export interface ContentType {
  /** Lower-cased 'type/subtype', e.g. 'application/pidf+xml'. */
  readonly mediaType: string;
  readonly type: string;
  readonly subtype: string;
  /** boundary, charset, type (multipart/related), start... */
  readonly params: Readonly<Record<string, string | null>>;
}

export function parseContentType(value: string): ContentType | undefined {
  const { value: mt, params } = valueAndParams(value);
  const slash = mt.indexOf('/');
  if (slash <= 0) return undefined;
  const type = mt.slice(0, slash).trim().toLowerCase();
  const subtype = mt
    .slice(slash + 1)
    .trim()
    .toLowerCase();
  if (!subtype) return undefined;
  return { mediaType: `${type}/${subtype}`, type, subtype, params };
}

export interface SipContact extends NameAddr {
  /** expires header param (seconds), when present and numeric. */
  readonly expires?: number;
  readonly q?: number;
}

/** Parses all Contact values; '*' (REGISTER remove-all) yields { wildcard: true }. */
export function parseContacts(values: readonly string[]): { wildcard: boolean; contacts: SipContact[] } {
  let wildcard = false;
  const contacts: SipContact[] = [];
  for (const line of values) {
    for (const item of splitCommaList(line)) {
      if (item === '*') {
        wildcard = true;
        continue;
      }
      const na = parseNameAddr(item);
      if (!na) continue;
      const c: { -readonly [K in keyof SipContact]: SipContact[K] } = { ...na };
      const exp = parseUint(na.params['expires']);
      if (exp !== undefined) c.expires = exp;
      const q = na.params['q'];
      if (q != null && /^\s*[01](\.\d{0,3})?\s*$/.test(q)) c.q = Number(q);
      contacts.push(c);
    }
  }
  return { wildcard, contacts };
}

/** Token list headers (Supported, Require, Allow-Events, Allow). */
export function parseTokenList(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of values) for (const t of splitCommaList(v)) out.push(t);
  return out;
}

/** Retry-After: delta-seconds [comment] *(;params). */
export function parseRetryAfter(value: string): number | undefined {
  const m = /^\s*(\d+)/.exec(value);
  return m ? Number(m[1]) : undefined;
}

export { parseParams };
