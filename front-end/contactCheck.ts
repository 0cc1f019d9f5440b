// Whether anyone vouched for a SUBSCRIBE's Contact (issue 13.7, RFC 6665 §9):
// an unauthenticated SUBSCRIBE not from a trusted proxy, whose Contact is not
// the address it came from and that gets no flow route, could name a victim —
// our NOTIFYs would then be reflected at it. Such a dialog's NOTIFYs are tried
// once, and it ends silently when they are not answered. What a user
// authenticated or a trusted proxy forwarded is believed, as are Contacts at
// the request's own source. More Vias prove nothing: anyone can write them, so
// a proxy vouches only by being listed (PRESENCE_SIP_TRUSTED_PROXIES[_NAMES]).
import { isIP } from 'node:net';
import { parseUri, type SipMessage } from '../protocols/decode/sip/index.ts';
import type { MessageSource } from '../protocols/sip/transport/types.ts';

export interface ContactVouchers {
  /** A user authenticated (digest) or a trusted proxy asserted the identity. */
  readonly authenticated: boolean;
  /** The request came from a trusted proxy. */
  readonly fromTrustedProxy: boolean;
  /** NOTIFYs go back over the flow the request came on (flowRelay.ts), not to the Contact. */
  readonly flowRouted: boolean;
}

const bare = (address: string) => address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '').toLowerCase();

export function contactVerified(request: SipMessage, source: MessageSource, v: ContactVouchers): boolean {
  if (v.authenticated || v.fromTrustedProxy || v.flowRouted) return true;
  const contact = request.contacts[0]?.uri;
  const uri = contact ? parseUri(contact) : undefined;
  // No Contact: NOTIFYs go to the From URI, which is no address of ours to check either.
  if (!uri || isIP(uri.host) === 0) return false;
  const port = uri.port ?? (uri.scheme === 'sips' ? 5061 : 5060);
  return bare(uri.host) === bare(source.address) && port === source.port;
}
