// What every request decision of the front end is given and gives back:
// the context (expiry policy, key resolver, own identity) and the answer.
// Its own file so the shared checks (requestChecks.ts) and the handlers that
// use them import it from one place, not from each other.
import type { SipHeaderLine } from '../protocols/sip/message/index.ts';
import type { Subscription } from '../schemas/generated/records.ts';

export interface ExpiryPolicy {
  /** Shortest subscription accepted (seconds); shorter non-zero requests get 423. */
  readonly minExpires: number;
  /** Longest subscription granted; longer requests are granted this. */
  readonly maxExpires: number;
  /** Granted when the SUBSCRIBE has no Expires (RFC 6665 §4.2.1.1: package default; RFC 3856 §6.4: 3600). */
  readonly defaultExpires: number;
}

export const DEFAULT_EXPIRY_POLICY: ExpiryPolicy = { minExpires: 60, maxExpires: 7200, defaultExpires: 3600 };

export function checkExpiryPolicy(p: ExpiryPolicy): ExpiryPolicy {
  for (const [name, v] of Object.entries(p)) {
    if (!Number.isInteger(v) || v < 1 || v > 0x7fffffff) throw new RangeError(`${name} must be a positive whole number of seconds, got ${v}`);
  }
  if (p.minExpires > p.maxExpires) throw new RangeError(`min-expires ${p.minExpires} is above max-expires ${p.maxExpires}`);
  if (p.defaultExpires < p.minExpires || p.defaultExpires > p.maxExpires) {
    throw new RangeError(`default-expires ${p.defaultExpires} is outside [${p.minExpires}, ${p.maxExpires}]`);
  }
  return p;
}

/** Resolves a presentity URI to a subscriber key (e.g. through the directory); undefined: not ours → 404. */
export type KeyResolver = (uri: string) => string | undefined | Promise<string | undefined>;

export interface HandlerContext {
  readonly policy: ExpiryPolicy;
  readonly resolveKey: KeyResolver;
  /** Id of this front end (Subscription.frontEnd). */
  readonly frontEndId: string;
  /** Our Contact URI for 2xx to SUBSCRIBE (RFC 6665 §4.2.1.1): where in-dialog refreshes come. */
  readonly contact: string;
  /** The To-tag to answer an out-of-dialog request with (the server transaction's); default a fresh one. */
  readonly toTag?: string;
  /** Whether a URI names this front end itself: a SUBSCRIBE redirected or proxied here (routingMode.ts) keeps the presentity in To (RFC 3261 §8.1.3.4, §16.6). */
  readonly isOwnUri?: (uri: string) => boolean;
  readonly now?: () => number;
  readonly requestId?: () => string;
  /** Who sent the request, authenticated (digest, or a trusted proxy's assertion: requestAuthenticator.ts); absent when authentication is off and the From is all there is. */
  readonly authenticated?: string;
  /** Whether a publisher (subscriber key) may PUBLISH for another presentity (subscriber key): delegation. Absent: nobody may. */
  readonly mayPublishFor?: (presentity: string, publisher: string) => Promise<boolean>;
}

export interface Answer {
  readonly status: number;
  readonly reason?: string;
  readonly headers: SipHeaderLine[];
  /** The To-tag of the response (the request's when in-dialog). */
  readonly toTag: string;
  /** Present only on a 2xx to SUBSCRIBE: record it (acks=all) before answering. */
  readonly record?: { readonly key: string; readonly value: Subscription };
}
