// How a SIP front end routes an acceptable out-of-dialog SUBSCRIBE (Tekelec
// Fig 7/12, claims 7-10):
//   stateless — record it on the subscriptions topic; Kafka takes it to the
//               owning event manager (the default: no routing state at all);
//   redirect  — 302 Moved Temporarily naming the owning event manager's own
//               SIP contact (routingModeRedirect.ts);
//   proxy     — forward it there as an RFC 3261 §16.11 stateless proxy
//               (routingModeProxy.ts).
// The owner comes from the event managers' MemberReports. When it is unknown
// or its report is stale, redirect and proxy fall back to stateless: the
// record still reaches whichever member owns the partition, so a rebalance
// or a member that stopped reporting costs a shortcut, never a subscription.
import type { Settings } from '../config/settings.ts';
import { MemberReportsView } from '../coordinator/memberReportsReader.ts';
import { parseUri, type SipMessage } from '../protocols/decode/sip/index.ts';
import type { TransportPort } from '../protocols/sip/transaction/layer.ts';
import type { Answer, KeyResolver } from './handlerContext.ts';

const FRONT_END_MODES = ['stateless', 'redirect', 'proxy'] as const;
export type FrontEndMode = (typeof FRONT_END_MODES)[number];

export function parseFrontEndMode(value: string): FrontEndMode {
  if (!(FRONT_END_MODES as readonly string[]).includes(value)) throw new Error(`front-end mode must be one of ${FRONT_END_MODES.join(', ')}, not ${value}`);
  return value as FrontEndMode;
}

/** Where a presentity's owning event manager takes SIP requests. */
export interface OwnerContacts {
  /** The owner's SIP contact (sip:host:port), or null when unknown, stale, or it runs no SIP listener. */
  contactOf(key: string): string | null;
  /** The owner's SIP over TLS contact (sips:host:port), or null when it has none: for watchers that must stay on TLS. */
  secureContactOf?(key: string): string | null;
}

/** What a routed front end counts, besides responses by code. */
interface RoutingStats {
  redirected: number;
  proxied: number;
  relayedResponses: number;
  /** SUBSCRIBEs handled as stateless because no live owner with a SIP contact was known. */
  ownerUnknown: number;
  tooManyHops: number;
  forwardFailures: number;
  /** SUBSCRIBEs that came over TLS (or for a sips: URI) handled here because the owner has no TLS contact to send them to (no downgrade). */
  tlsKept: number;
  /**
   * Proxy mode: SUBSCRIBEs handled here because their Contact is not where they came from (and no
   * trusted proxy sent them): forwarded, the owner could not tell them from ones we vouch for.
   */
  contactKept: number;
}

/** A front end's routing mode: hooks sipFrontEnd.ts calls. */
export interface SubscribeRouting {
  readonly mode: FrontEndMode;
  readonly stats: RoutingStats;
  /** redirect: the answer to send instead of recording an accepted SUBSCRIBE; undefined → record it (stateless). */
  redirect?(request: SipMessage, accepted: Answer): Answer | undefined;
  /** proxy: the transport the transaction layer sees (SUBSCRIBEs to forward and their responses never reach it). */
  wrapTransport?(transport: TransportPort, resolveKey: KeyResolver): TransportPort;
  close(): Promise<void>;
}

export const emptyRoutingStats = (): RoutingStats => ({
  redirected: 0,
  proxied: 0,
  relayedResponses: 0,
  ownerUnknown: 0,
  tooManyHops: 0,
  forwardFailures: 0,
  tlsKept: 0,
  contactKept: 0,
});

/**
 * Whether a SUBSCRIBE must stay on TLS hops (RFC 3261 §26.2, RFC 5630 §3): it
 * came over TLS (our source, or its top Via says so) or its Request-URI is sips:.
 */
export function arrivedSecure(request: SipMessage, sourceTransport?: string): boolean {
  if (sourceTransport === 'tls') return true;
  if (request.topVia?.transport.toUpperCase() === 'TLS') return true;
  return parseUri(request.requestUri ?? '')?.scheme === 'sips';
}

/** Whether an owner's contact is reached over TLS: a sips: URI or transport=tls. */
export function secureContact(contact: string): boolean {
  const u = parseUri(contact);
  return u?.scheme === 'sips' || u?.params['transport']?.toLowerCase() === 'tls';
}

/** RFC 3261 §25.1 user part: escape what is not unreserved / user-unreserved. */
function escapeUser(user: string): string {
  return user.replace(/[^A-Za-z0-9\-_.!~*'()&=+$,;?/]/g, (c) =>
    [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}

/**
 * The owner's contact carrying the presentity URI's user part, e.g.
 * sip:alice@example.com → sip:alice@10.0.0.7:5071, tel:+351910000077 →
 * sip:+351910000077@10.0.0.7:5071;user=phone. The event manager keys the
 * request by its To (which a redirect or a proxy leaves unchanged) because
 * this Request-URI names itself (subscribeHandler.ts).
 */
export function ownerTargetUri(ownerContact: string, presentityUri: string): string {
  const contact = parseUri(ownerContact);
  if (!contact || (contact.scheme !== 'sip' && contact.scheme !== 'sips')) throw new Error(`owner contact ${ownerContact} is not a sip: URI`);
  const target = parseUri(presentityUri);
  const user = target?.user;
  if (!user) return ownerContact;
  const colon = ownerContact.indexOf(':');
  const withUser = `${ownerContact.slice(0, colon + 1)}${escapeUser(user)}@${ownerContact.slice(colon + 1).replace(/^[^@]*@/, '')}`;
  return target.scheme === 'tel' || target.params['user'] === 'phone' ? `${withUser};user=phone` : withUser;
}

/** The presentity an out-of-dialog SUBSCRIBE names; undefined for in-dialog ones (they stay with whoever holds the dialog). */
export function outOfDialogPresentity(request: SipMessage): string | undefined {
  if (request.method !== 'SUBSCRIBE' || request.to?.tag !== undefined) return undefined;
  return request.requestUri;
}

/** Owner contacts from a live view of the event-manager-members topic. */
export async function followOwnerContacts(s: Settings, log?: (line: string) => void): Promise<OwnerContacts & { close(): Promise<void> }> {
  const view = await MemberReportsView.open(s, { follow: true, ...(log ? { log } : {}) });
  return {
    contactOf: (key) => view.ownerOfKey(key)?.sipContact ?? null,
    secureContactOf: (key) => view.ownerOfKey(key)?.sipsContact ?? null,
    close: () => view.close(),
  };
}
