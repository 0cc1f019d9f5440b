// RFC 5630 / RFC 3261 §26.2.2: a sips: URI asks for TLS on every hop. A request
// for a sips: Request-URI that reached us over UDP or TCP already crossed a
// plain hop: we cannot honour the scheme on this hop, so it is refused with
// 416 Unsupported URI Scheme (§8.2.2.1) rather than answered as if secure.
// Over TLS, a SUBSCRIBE for a sips: URI must give a sips: Contact (§8.1.1.8,
// RFC 5630 §4.4) or its NOTIFYs would go out in the clear: 400.
import { parseUri, type SipMessage } from '../protocols/decode/sip/index.ts';
import type { SipTransportName } from '../protocols/sip/transport/index.ts';

interface Refusal {
  readonly status: number;
  readonly reason: string;
  readonly headers: Array<readonly [string, string]>;
}

function isSips(uri: string | undefined): boolean {
  return uri !== undefined && parseUri(uri)?.scheme === 'sips';
}

/** The refusal a request gets for how it arrived, or undefined when its scheme and transport agree. */
export function secureTransportRefusal(request: SipMessage, arrivedOver: SipTransportName): Refusal | undefined {
  if (!isSips(request.requestUri)) return undefined;
  if (arrivedOver !== 'tls') return { status: 416, reason: 'Unsupported URI Scheme (sips: needs TLS on every hop, RFC 5630)', headers: [] };
  const contact = request.contacts[0]?.uri;
  if (request.method === 'SUBSCRIBE' && contact !== undefined && !isSips(contact)) {
    return { status: 400, reason: 'Bad Request (a sips: Request-URI needs a sips: Contact)', headers: [] };
  }
  return undefined;
}

/**
 * Our Contact for an answer (where the watcher sends refreshes): over TLS the TLS port, as
 * sips: when the Request-URI was sips:, else sip:…;transport=tls; over TCP ;transport=tcp.
 */
export function frontEndContact(
  host: string,
  ports: { readonly port: number; readonly tlsPort: number },
  request: SipMessage,
  arrivedOver: SipTransportName,
): string {
  const h = host.includes(':') ? `[${host}]` : host;
  if (arrivedOver === 'tls') return isSips(request.requestUri) ? `sips:${h}:${ports.tlsPort}` : `sip:${h}:${ports.tlsPort};transport=tls`;
  const tcp = request.topVia?.transport?.toLowerCase() === 'tcp';
  return `sip:${h}:${ports.port}${tcp ? ';transport=tcp' : ''}`;
}
