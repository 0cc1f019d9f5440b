// The decisions of the stateless SIP front end of the Pw interface (RFC 6665,
// RFC 3856): what to answer a request, and — for a SUBSCRIBE that is accepted
// — the Subscription record to put on the subscriptions topic, keyed by the
// presentity's subscriber key, so the event manager that owns the presentity
// holds the dialog and sends the NOTIFYs. No I/O here except the optional
// key resolver (the subscriber directory); sending is sipFrontEnd.ts's job.
import type { SipMessage } from '../protocols/decode/sip/index.ts';
import { identityKey, uriSubscriber } from '../subscriber/identity/subscriberKey.ts';
import type { NumberingPlan } from '../subscriber/identity/msisdn.ts';
import { newTag, type SipHeaderLine } from '../protocols/sip/message/index.ts';
import type { Answer, HandlerContext } from './handlerContext.ts';
import { acceptsMediaType, expiresToGrant, subscriptionRecord, SUPPORTED_EXTENSIONS } from './requestChecks.ts';
import { DIALOG_INFO } from '../presence-document/dialogInfo.ts';
import { WATCHERINFO } from '../presence-document/watcherInfo.ts';
import { SIMPLE_MESSAGE_SUMMARY } from '../presence-document/messageSummary.ts';
import type { DialogFilter } from '../schemas/generated/records.ts';

export const PRESENCE_EVENT = 'presence';
export const PIDF = 'application/pidf+xml';
/** RFC 4235: call dialogs of the presentity (busy lamp field), held by the same event manager as its presence. */
export const DIALOG_EVENT = 'dialog';
/** RFC 3857: the presentity's own watchers of its presence (pending ones to answer), held with its presence dialogs. */
export const PRESENCE_WINFO_EVENT = 'presence.winfo';
/** RFC 3842: the subscriber's mailbox summary (message waiting), held by the event manager that owns it. */
export const MESSAGE_SUMMARY_EVENT = 'message-summary';
/** IM seed 003: one NOTIFY per new message (voice mail, SMS, IM), its Content-Type the message's kind. */
export const MESSAGE_EVENT = 'message';
/**
 * The packages a presentity can be subscribed to, each with the body type its NOTIFYs carry
 * (null: each NOTIFY's own — a message's kind — so no Accept can be checked against one type).
 */
const PACKAGES: Readonly<Record<string, string | null>> = {
  [PRESENCE_EVENT]: PIDF,
  [DIALOG_EVENT]: DIALOG_INFO,
  [PRESENCE_WINFO_EVENT]: WATCHERINFO,
  [MESSAGE_SUMMARY_EVENT]: SIMPLE_MESSAGE_SUMMARY,
  [MESSAGE_EVENT]: null,
};
/** Packages about the subscriber's own affairs (its watchers, its mailbox): only the subscriber itself may subscribe. */
const OWN_PACKAGES: ReadonlySet<string> = new Set([PRESENCE_WINFO_EVENT, MESSAGE_SUMMARY_EVENT, MESSAGE_EVENT]);
const ALLOW_EVENTS: SipHeaderLine = ['Allow-Events', Object.keys(PACKAGES).join(', ')];
/** Methods this front end implements (Allow). PUBLISH goes to publishHandler.ts (501 only for a front end built without a publication service). */
export const ALLOWED_METHODS = ['SUBSCRIBE', 'PUBLISH', 'OPTIONS'] as const;

/**
 * A presentity URI → its subscriber key, the way the taps key the same URI
 * (taps/signal.ts): `msisdn:+E164` for tel: and user=phone URIs
 * with a global number, else `aor:sip:user@host`; a URI without a user part
 * (a host, a local tel number without context) names no subscriber.
 */
export function presentityKey(uri: string, plan: NumberingPlan): string | undefined {
  const id = uriSubscriber(uri, plan);
  return id && identityKey(id);
}

/**
 * RFC 4235 §3.2: `Event: dialog;call-id=…;to-tag=…;from-tag=…` subscribes to
 * one dialog. Tags name a dialog only together with its Call-ID, so tags alone
 * are refused rather than silently widened to every call. `include-session-
 * description` is accepted and ignored: the taps keep no SDP, so there is none
 * to include (the RFC lets a notifier leave it out).
 */
export function dialogFilterOf(params: Readonly<Record<string, string | null>>): DialogFilter | null | 'bad' {
  const value = (name: string) => {
    const v = params[name];
    return v === undefined || v === null || v === '' ? null : v; // already unquoted (RFC 4235 allows a quoted call-id)
  };
  const callId = value('call-id');
  const toTag = value('to-tag');
  const fromTag = value('from-tag');
  if (callId === null) return toTag === null && fromTag === null ? null : 'bad';
  return { callId, toTag, fromTag };
}

const allow = (): SipHeaderLine => ['Allow', ALLOWED_METHODS.join(', ')];

/** The answer to any request the transaction layer hands the front end. */
export async function decide(request: SipMessage, ctx: HandlerContext): Promise<Answer> {
  const toTag = request.to?.tag ?? ctx.toTag ?? newTag();
  switch (request.method) {
    case 'SUBSCRIBE':
      return decideSubscribe(request, ctx, toTag);
    case 'OPTIONS':
      return { status: 200, toTag, headers: [allow(), ALLOW_EVENTS, ['Accept', PIDF], ['Supported', SUPPORTED_EXTENSIONS.join(', ')]] };
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
  const bodyType = event ? PACKAGES[event.type] : undefined;
  if (!event || bodyType === undefined) return fail(489, [ALLOW_EVENTS]);

  // An initial SUBSCRIBE names the presentity in its Request-URI; inside a
  // dialog the Request-URI is our Contact, and To still carries the presentity.
  const inDialog = request.to?.tag !== undefined;
  const retargeted = !inDialog && request.to?.uri !== undefined && ctx.isOwnUri?.(request.requestUri ?? '') === true;
  const presentityUri = inDialog || retargeted ? request.to!.uri : (request.requestUri ?? '');
  const key = presentityUri ? await ctx.resolveKey(presentityUri) : undefined;
  if (!key) return fail(404);

  // RFC 3857 §5.1.1: who watches a presentity is its own business — only the presentity (as authenticated) may ask.
  // Its mailbox too (RFC 3842 §8: a summary tells who called): message-summary and message are the subscriber's alone.
  const watcherUri = ctx.authenticated ?? from.uri;
  if (OWN_PACKAGES.has(event.type) && (await ctx.resolveKey(watcherUri)) !== key)
    return fail(403, [], event.type === PRESENCE_WINFO_EVENT ? 'Only the presentity may watch its watchers' : 'Only the subscriber may watch its messages');

  const accept = request.headers.list('accept');
  if (bodyType !== null && accept.length > 0 && !acceptsMediaType(accept, bodyType)) return fail(406, [['Accept', bodyType]]);

  const expires = expiresToGrant(request, ctx.policy);
  if (typeof expires !== 'number') return fail(expires.status, expires.headers, expires.reason);

  const dialogFilter = event.type === DIALOG_EVENT ? dialogFilterOf(event.params) : null;
  if (dialogFilter === 'bad') return fail(400, [], 'to-tag/from-tag without call-id');

  const value = subscriptionRecord(request, ctx, {
    presentity: key,
    presentityUri,
    // The watcher the rules judge: who authenticated, never a From anyone can write.
    watcher: { uri: watcherUri, tag: from.tag },
    event: event.type,
    expires,
    toTag,
    dialogFilter,
  });
  return {
    status: 200,
    toTag,
    headers: [['Expires', String(expires)], ['Contact', `<${ctx.contact}>`], ALLOW_EVENTS],
    record: { key, value },
  };
}
