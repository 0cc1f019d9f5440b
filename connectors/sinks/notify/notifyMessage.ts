// A NotifyRequest record → the NOTIFY of its dialog (RFC 6665 §4.2.2, RFC 3856)
// as a RequestSpec for TransactionLayer.request, and where to send it.
// Pure functions: no I/O, so they are unit-tested byte for byte.
import { parseUri } from '../../../protocols/decode/sip/index.ts';
import { DEFAULT_MAX_FORWARDS, type RequestSpec } from '../../../protocols/sip/message/index.ts';
import { defaultTarget, type SipUriLocation, type TransportTarget } from '../../../protocols/sip/transport/index.ts';
import type { NotifyRequest } from '../../../schemas/generated/records.ts';

export class BadNotifyRequest extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadNotifyRequest';
  }
}

/** `state[;expires=N][;reason=R]` (RFC 6665 §8.2.3). */
export function subscriptionStateValue(n: Pick<NotifyRequest, 'subscriptionState' | 'expires' | 'reason'>): string {
  let v = n.subscriptionState;
  if (n.expires !== null && n.expires !== undefined) v += `;expires=${n.expires}`;
  if (n.reason !== null && n.reason !== undefined && n.reason !== '') v += `;reason=${n.reason}`;
  return v;
}

/**
 * The full dialog ID (RFC 3261 §12): Call-ID + both tags. NOTIFYs with the
 * same key go strictly in order. (The event manager's watcherDialogKey keys by
 * the watcher's tag only, as an initial SUBSCRIBE does not know ours yet.)
 */
export function dialogIdKey(n: Pick<NotifyRequest, 'callId' | 'localTag' | 'remoteTag'>): string {
  return `${n.callId}\u0000${n.localTag}\u0000${n.remoteTag}`;
}

/**
 * Host, port and transport of a SIP URI (sip:user@host:port;transport=tcp|udp|tls;
 * default udp/5060). A sips: URI goes over TLS, default port 5061 (RFC 3261
 * §19.1.2, §26.2.2), as does transport=tls; a sips: URI naming a plain
 * transport is refused: it would cross a hop in the clear (RFC 5630). With
 * `secure` (the Request-URI is sips:) every hop is TLS, so a sip: route entry
 * is reached over TLS too. A domain without a port is located by NAPTR/SRV
 * (RFC 3263) in the deliverer, when the sink has a locator (uriLocation).
 */
export function uriTarget(uri: string, secure = false): TransportTarget {
  return defaultTarget(uriLocation(uri, secure));
}

/** What the URI itself says of where to send (uriTarget before the defaults; for RFC 3263 location). */
export function uriLocation(uri: string, secure = false): SipUriLocation {
  const u = parseUri(uri.startsWith('<') ? uri.slice(1, uri.indexOf('>') > 0 ? uri.indexOf('>') : undefined) : uri);
  if (!u || (u.scheme !== 'sip' && u.scheme !== 'sips') || u.host === '') throw new BadNotifyRequest(`not a sip: or sips: URI we can send to: ${uri}`);
  const tls = secure || u.scheme === 'sips';
  const named = u.params['transport']?.toLowerCase();
  const t = named ?? (tls ? 'tls' : 'udp');
  if (t !== 'udp' && t !== 'tcp' && t !== 'tls') throw new BadNotifyRequest(`unsupported transport ${t} in ${uri}`);
  if (tls && t !== 'tls') throw new BadNotifyRequest(`transport=${t} in ${uri}: a sips: request must go over TLS on every hop (RFC 5630)`);
  return { host: u.host, port: u.port ?? undefined, transport: named === undefined ? undefined : t, secure: tls };
}

/** A sips: Request-URI: the NOTIFY must go over TLS on every hop. */
function isSecureRequest(requestUri: string): boolean {
  return /^\s*<?\s*sips:/i.test(requestUri);
}

/**
 * Next hop (RFC 3261 §8.1.2, §12.2.1.1): with a route set whose first entry is
 * a loose router (`;lr`), the request goes to that entry and the Request-URI
 * stays the remote target; otherwise straight to the Request-URI. (Strict
 * routers — a first route without `lr` — are not supported and are refused.)
 */
export function nextHop(n: Pick<NotifyRequest, 'requestUri' | 'routeSet'>): TransportTarget {
  return defaultTarget(nextHopLocation(n));
}

/** The next hop as its URI gives it, before defaults (for RFC 3263 location). */
export function nextHopLocation(n: Pick<NotifyRequest, 'requestUri' | 'routeSet'>): SipUriLocation {
  const first = n.routeSet[0];
  const secure = isSecureRequest(n.requestUri);
  if (first === undefined) return uriLocation(n.requestUri, secure);
  const inner = first.includes('<') ? first.slice(first.indexOf('<') + 1, first.indexOf('>')) : first;
  const u = parseUri(inner);
  if (!u || !('lr' in u.params)) throw new BadNotifyRequest(`strict-routing route set entry not supported: ${first}`);
  return uriLocation(inner, secure);
}

interface NotifyBuildOptions {
  /** The sink's own Contact URI, e.g. sip:127.0.0.1:5080. */
  readonly contact: string;
  readonly maxForwards?: number;
}

/** The NOTIFY in its dialog: From = ours (localTag), To = the watcher's (remoteTag). */
export function notifySpec(n: NotifyRequest, o: NotifyBuildOptions): RequestSpec {
  if (!Number.isSafeInteger(n.cseq) || n.cseq < 0 || n.cseq > 0x7fffffff) throw new BadNotifyRequest(`CSeq ${n.cseq} out of range`);
  const headers: Array<readonly [string, string]> = [
    ['Event', n.event || 'presence'],
    ['Subscription-State', subscriptionStateValue(n)],
  ];
  // RFC 4662 §5: a NOTIFY of a resource list (a group dialog) requires the eventlist extension.
  if (n.presentity.startsWith('group:')) headers.push(['Require', 'eventlist']);
  const hasBody = n.body !== null && n.body !== undefined;
  return {
    method: 'NOTIFY',
    requestUri: n.requestUri,
    from: { uri: n.fromUri, tag: n.localTag },
    to: { uri: n.toUri, tag: n.remoteTag },
    callId: n.callId,
    cseq: n.cseq,
    contact: o.contact,
    routeSet: n.routeSet,
    maxForwards: o.maxForwards ?? DEFAULT_MAX_FORWARDS,
    headers,
    ...(hasBody ? { body: n.body!, contentType: n.contentType ?? 'application/pidf+xml' } : {}),
  };
}

/**
 * The Contact of our NOTIFYs. NOTIFY is a target refresh request (RFC 6665
 * §4.1.2.2): the watcher sends its refresh SUBSCRIBEs there, so it should name
 * the SIP front end, not this sink (which refuses requests). Without one
 * configured it is the sink's own address.
 */
export function notifyContact(configured: string | undefined, host: string, port: number): string {
  if (configured === undefined || configured === '') return contactUri(host, port);
  if (!/^sips?:[^\s<>"]+$/i.test(configured)) throw new Error(`the NOTIFY Contact must be a sip: or sips: URI, not ${JSON.stringify(configured)}`);
  return configured;
}

/** The sink's Contact: sip:host:port (IPv6 bracketed). */
export function contactUri(host: string, port: number): string {
  return `sip:${host.includes(':') ? `[${host}]` : host}:${port}`;
}
