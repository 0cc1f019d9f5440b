// The checks and the record that SUBSCRIBE to a presentity, SUBSCRIBE to a
// group and PUBLISH share, written once so the three answer alike: Accept
// matching, the Expires to grant (RFC 6665 §4.2.1.1, RFC 3903 §6 step 5) and
// the Subscription record of an accepted SUBSCRIBE.
import { randomUUID } from 'node:crypto';
import type { SipMessage } from '../protocols/decode/sip/index.ts';
import type { DialogFilter, Subscription } from '../schemas/generated/records.ts';
import type { SipHeaderLine } from '../protocols/sip/message/index.ts';
import type { ExpiryPolicy, HandlerContext } from './handlerContext.ts';

/** A failure answer before its To-tag is known. */
interface Refusal {
  readonly status: number;
  readonly headers: SipHeaderLine[];
  readonly reason?: string;
}

/** Whether Accept's media ranges admit `mediaType`: named exactly, by its type's wildcard or by the any-type wildcard; a range with q=0 admits nothing. */
export function acceptsMediaType(ranges: readonly string[], mediaType: string): boolean {
  const typeWildcard = `${mediaType.split('/')[0]}/*`;
  return ranges.some((r) => {
    const [mt = '', ...params] = r.split(';');
    const q = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('q='));
    if (q !== undefined && Number(q.slice(2)) === 0) return false;
    const m = mt.trim().toLowerCase();
    return m === mediaType || m === typeWildcard || m === '*/*';
  });
}

/** Option tags this front end implements (RFC 4662 resource lists for group URIs). */
export const SUPPORTED_EXTENSIONS = ['eventlist'] as const;

/** RFC 3261 §8.2.2.3: Require naming an extension we lack → 420 with Unsupported listing them; undefined when all are ours. */
export function unsupportedRequire(request: SipMessage): Refusal | undefined {
  const lacking = request.require.filter((t) => !(SUPPORTED_EXTENSIONS as readonly string[]).includes(t.toLowerCase()));
  return lacking.length ? { status: 420, headers: [['Unsupported', lacking.join(', ')]] } : undefined;
}

/**
 * RFC 3261 §16.3 step 3: a request whose Max-Forwards is spent is not passed
 * on (to the event manager or an owner) → 483; an OPTIONS is answered by us
 * as its final recipient. An unparsable value is left to the parser's rules.
 */
export function hopsExhausted(request: SipMessage): Refusal | undefined {
  if (request.method === 'OPTIONS') return undefined;
  const mf = request.headers.get('max-forwards');
  return mf !== undefined && mf.trim() === '0' ? { status: 483, headers: [], reason: 'Too Many Hops' } : undefined;
}

/**
 * The Expires to grant: absent → the default; unparsable → 400; 0 < asked <
 * min → 423 with our Min-Expires; above max → max (0, an unsubscribe or a
 * removal, passes as it is).
 */
export function expiresToGrant(request: SipMessage, policy: ExpiryPolicy): number | Refusal {
  if (!request.headers.has('expires')) return policy.defaultExpires;
  const asked = request.expires;
  if (asked === undefined) return { status: 400, headers: [], reason: 'Invalid Expires' };
  if (asked !== 0 && asked < policy.minExpires) return { status: 423, headers: [['Min-Expires', String(policy.minExpires)]] };
  return Math.min(asked, policy.maxExpires);
}

/** The Subscription record of an accepted SUBSCRIBE, for the event manager or group processor that will hold the dialog. */
export function subscriptionRecord(
  request: SipMessage,
  ctx: HandlerContext,
  d: {
    readonly presentity: string;
    readonly presentityUri: string;
    readonly watcher: { readonly uri: string; readonly tag: string };
    readonly event: string;
    readonly expires: number;
    readonly toTag: string;
    /** Event: dialog with call-id (RFC 4235 §3.2): the one dialog asked for. */
    readonly dialogFilter?: DialogFilter | null;
  },
): Subscription {
  return {
    requestId: ctx.requestId?.() ?? randomUUID(),
    receivedAt: ctx.now?.() ?? Date.now(),
    presentity: d.presentity,
    presentityUri: d.presentityUri,
    watcherUri: d.watcher.uri,
    event: d.event,
    expires: d.expires,
    callId: request.callId,
    watcherTag: d.watcher.tag,
    cseq: request.cseq.seq,
    contact: request.contacts[0]?.uri ?? d.watcher.uri,
    routeSet: request.headers.list('record-route'),
    accept: request.headers.list('accept'),
    supported: request.supported,
    body: request.body.length > 0 ? Buffer.from(request.body) : null,
    frontEnd: ctx.frontEndId,
    localTag: d.toTag,
    // Until the front end, which knows the source and who vouched, says otherwise (contactCheck.ts).
    contactVerified: true,
    dialogFilter: d.dialogFilter ?? null,
  };
}
