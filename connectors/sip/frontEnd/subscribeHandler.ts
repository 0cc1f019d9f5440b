// The decisions of the stateless SIP front end of the Pw interface (RFC 6665,
// RFC 3856): what to answer a request, and — for a SUBSCRIBE that is accepted
// — the Subscription record to put on the subscriptions topic, keyed by the
// presentity's subscriber key, so the event manager that owns the presentity
// holds the dialog and sends the NOTIFYs. No I/O here except the optional
// key resolver (the subscriber directory); sending is sipFrontEnd.ts's job.
import type { SipMessage } from '../../decode/sip/index.ts';
import { uriIdentity } from '../../taps/identity/aor.ts';
import type { NumberingPlan } from '../../taps/identity/msisdn.ts';
import type { Subscription } from '../../../schemas/generated/records.ts';
import { newTag, type SipHeaderLine } from '../message/index.ts';
import { acceptsMediaType, expiresToGrant, subscriptionRecord, SUPPORTED_EXTENSIONS } from './requestChecks.ts';

export const PRESENCE_EVENT = 'presence';
export const PIDF = 'application/pidf+xml';
/** Methods this front end implements (Allow). PUBLISH goes to publishHandler.ts (501 only for a front end built without a publication service). */
export const ALLOWED_METHODS = ['SUBSCRIBE', 'PUBLISH', 'OPTIONS'] as const;

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

/**
 * A presentity URI → its subscriber key, the way the taps key the same URI
 * (connectors/taps/signal.ts): `msisdn:+E164` for tel: and user=phone URIs
 * with a global number, else `aor:sip:user@host`; a URI without a user part
 * (a host, a local tel number without context) names no subscriber.
 */
export function presentityKey(uri: string, plan: NumberingPlan): string | undefined {
  const id = uriIdentity(uri, plan);
  if (!id) return undefined;
  if (id.kind === 'msisdn') return `msisdn:+${id.e164}`;
  return id.aor.includes('@') ? `aor:${id.aor}` : undefined;
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

const allow = (): SipHeaderLine => ['Allow', ALLOWED_METHODS.join(', ')];

/** The answer to any request the transaction layer hands the front end. */
export async function decide(request: SipMessage, ctx: HandlerContext): Promise<Answer> {
  const toTag = request.to?.tag ?? ctx.toTag ?? newTag();
  switch (request.method) {
    case 'SUBSCRIBE':
      return decideSubscribe(request, ctx, toTag);
    case 'OPTIONS':
      return { status: 200, toTag, headers: [allow(), ['Allow-Events', PRESENCE_EVENT], ['Accept', PIDF], ['Supported', SUPPORTED_EXTENSIONS.join(', ')]] };
    case 'PUBLISH':
      // RFC 3903 needs the owning event manager (publishHandler.ts): a front end without it cannot publish.
      return { status: 501, toTag, headers: [allow()] };
    default:
      return { status: 405, toTag, headers: [allow()] };
  }
}

async function decideSubscribe(request: SipMessage, ctx: HandlerContext, toTag: string): Promise<Answer> {
  const fail = (status: number, headers: SipHeaderLine[] = [], reason?: string): Answer => ({ status, toTag, headers, ...(reason ? { reason } : {}) });

  const from = request.from;
  if (!from?.uri || !from.tag) return fail(400, [], 'Missing From tag');

  // RFC 6665 §4.2.1.1 / §8.2.2: a SUBSCRIBE without Event, or for a package we do not serve.
  const event = request.event;
  if (!event || event.type !== PRESENCE_EVENT) return fail(489, [['Allow-Events', PRESENCE_EVENT]]);

  // An initial SUBSCRIBE names the presentity in its Request-URI; inside a
  // dialog the Request-URI is our Contact, and To still carries the presentity.
  const inDialog = request.to?.tag !== undefined;
  const retargeted = !inDialog && request.to?.uri !== undefined && ctx.isOwnUri?.(request.requestUri ?? '') === true;
  const presentityUri = inDialog || retargeted ? request.to!.uri : request.requestUri ?? '';
  const key = presentityUri ? await ctx.resolveKey(presentityUri) : undefined;
  if (!key) return fail(404);

  const accept = request.headers.list('accept');
  if (accept.length > 0 && !acceptsMediaType(accept, PIDF)) return fail(406, [['Accept', PIDF]]);

  const expires = expiresToGrant(request, ctx.policy);
  if (typeof expires !== 'number') return fail(expires.status, expires.headers, expires.reason);

  const value = subscriptionRecord(request, ctx, { presentity: key, presentityUri, watcher: { uri: from.uri, tag: from.tag }, event: event.type, expires, toTag });
  return {
    status: 200,
    toTag,
    headers: [['Expires', String(expires)], ['Contact', `<${ctx.contact}>`], ['Allow-Events', PRESENCE_EVENT]],
    record: { key, value },
  };
}
