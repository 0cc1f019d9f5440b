// PUBLISH at the stateless front end (RFC 3903, the Pe interface): what the
// front end can decide alone — Event, presentity, Expires, Content-Type,
// well-formed PIDF — and a PublishRequest keyed by the presentity for the
// event manager that owns it. An initial publication (no SIP-If-Match) has one
// possible outcome once it passed these checks, so it is answered 200 as soon
// as Kafka stored the request (acks=all), with the entity tag the event
// manager derives from the same request id: the answer waits for no
// transaction and no other process (it used to take seconds under load, and
// clients retransmitted). A conditional PUBLISH (refresh, modify, remove)
// depends on the tags only the owner holds, so it is a request/reply through
// Kafka: the owner's PublishResponse becomes the SIP answer. Kafka not taking
// the request, or no answer in time, is 500 with Retry-After, never a guess.
//
// `Event: message-summary` (RFC 3842) from an authorised messaging system (a
// voicemail platform, frontEnd.messagingPublishers) takes another path: the
// summary is the mailbox's state, not soft state the event manager keeps per
// publication, so it goes to signaling-events as the HTTP publish's record does
// (services/availability-service/messagePublisher.ts) and the owning event
// manager applies it like a tapped message-summary NOTIFY. Answered 200 once
// Kafka stored it; a refresh or removal (no body) changes nothing and is 200.
import { createHash } from 'node:crypto';
import { entityTagOf } from '../presence-document/entityTag.ts';
import { DIALOG_INFO, parseDialogInfo } from '../presence-document/dialogInfo.ts';
import { parsePidf } from '../presence-document/parse.ts';
import { parseMessageSummary, SIMPLE_MESSAGE_SUMMARY, type MessageSummary } from '../presence-document/messageSummary.ts';
import type { SipMessage } from '../protocols/decode/sip/index.ts';
import type { PublishRequest, PublishResponse } from '../schemas/generated/records.ts';
import { newTag, type SipHeaderLine } from '../protocols/sip/message/index.ts';
import { expiresToGrant } from './requestChecks.ts';
import { DIALOG_EVENT, MESSAGE_SUMMARY_EVENT, PIDF, PRESENCE_EVENT } from './subscribeHandler.ts';
import { type Answer, type HandlerContext } from './handlerContext.ts';

/** Hands a PublishRequest to the owning event manager. */
export interface PublishService {
  /** Resolves with the owner's answer; rejects when Kafka does not take the request or no answer comes in time (PublishUnansweredError). */
  submit(key: string, request: PublishRequest): Promise<PublishResponse>;
  /** Resolves once Kafka stored the request (acks=all), for one the front end answers itself (`answered`); rejects when it does not. */
  store(key: string, request: PublishRequest): Promise<void>;
  /** Writes a messaging system's summary for `key` to signaling-events; resolves once Kafka stored it. Absent: message-summary is 489. */
  messageSummary?(key: string, summary: MessageSummary, at: number): Promise<void>;
}

export class PublishUnansweredError extends Error {
  constructor(requestId: string, timeoutMs: number) {
    super(`no answer to PUBLISH ${requestId} from the owning event manager within ${timeoutMs} ms`);
    this.name = 'PublishUnansweredError';
  }
}

export interface PublishContext extends HandlerContext {
  /** Seconds in Retry-After of the 500 when the event manager cannot be reached, and of the 503 when overloaded. Default 5. */
  readonly retryAfter?: number;
  /**
   * Asked once the request passed the checks, before it goes to Kafka: false → 503 + Retry-After
   * (overloaded, RFC 3261 §21.5.4: nothing was sent, so nothing was applied). Absent: always admitted.
   */
  readonly admit?: () => boolean;
  /** Who may PUBLISH message-summary for any subscriber (SIP URIs); empty or absent: nobody (489). */
  readonly messagingPublishers?: readonly string[];
  readonly log?: (line: string) => void;
}

/** Either the answer now, the record to submit, or a messaging system's summary to write. */
type PublishDecision =
  | { readonly answer: Answer }
  | { readonly submit: { readonly key: string; readonly value: PublishRequest }; readonly toTag: string }
  | {
      readonly summary: { readonly key: string; readonly summary: MessageSummary | null; readonly expires: number; readonly etag: string };
      readonly toTag: string;
    };

/** Largest PIDF accepted: it is kept in the owning event manager's state (and changelog) until it expires. */
export const MAX_PUBLISH_BODY = 64 * 1024;

/**
 * What can be published: presence (PIDF, RFC 3903) and dialog (RFC 4235
 * dialog-info: a PBX's calls, as Kamailio pua_dialoginfo sends them), each
 * with its body type and the parser that checks it is well-formed.
 */
const PACKAGES: Readonly<Record<string, { readonly type: string; readonly name: string; readonly parse: (b: Buffer) => unknown }>> = {
  [PRESENCE_EVENT]: { type: PIDF, name: 'PIDF', parse: parsePidf },
  [DIALOG_EVENT]: { type: DIALOG_INFO, name: 'dialog-info', parse: parseDialogInfo },
};
const ALLOW_EVENTS: SipHeaderLine = ['Allow-Events', Object.keys(PACKAGES).join(', ')];
const ALLOW_EVENTS_WITH_SUMMARY: SipHeaderLine = ['Allow-Events', [...Object.keys(PACKAGES), MESSAGE_SUMMARY_EVENT].join(', ')];
/** A summary is a few lines; RFC 3842 bodies past this are no mailbox. */
const MAX_SUMMARY_BODY = 8 * 1024;

/** A SIP URI as compared with the configured messaging systems: no display name, brackets or parameters; case-insensitive. */
export const bareUri = (u: string): string =>
  u
    .trim()
    .replace(/^.*<([^>]*)>.*$/, '$1')
    .replace(/;.*$/, '')
    .toLowerCase();

/** A reason phrase is one short line (the event manager's may quote a parser). */
const phrase = (s: string) => s.replace(/[\r\n\t]+/g, ' ').slice(0, 120);

/** The front end's own checks, in RFC 3903 §6 order where it can apply them without state. */
export async function validatePublish(request: SipMessage, ctx: HandlerContext & Pick<PublishContext, 'messagingPublishers'>): Promise<PublishDecision> {
  const toTag = request.to?.tag ?? ctx.toTag ?? newTag();
  const fail = (status: number, headers: SipHeaderLine[] = [], reason?: string): PublishDecision => ({
    answer: { status, toTag, headers, ...(reason ? { reason } : {}) },
  });

  const from = request.from;
  if (!from?.uri) return fail(400, [], 'Missing From');
  // §6 step 2: the event package.
  const event = request.event;
  const summaries = (ctx.messagingPublishers?.length ?? 0) > 0;
  if (event?.type === MESSAGE_SUMMARY_EVENT && summaries) return validateSummaryPublish(request, ctx, toTag, fail);
  const pkg = event ? PACKAGES[event.type] : undefined;
  if (!event || !pkg) return fail(489, [summaries ? ALLOW_EVENTS_WITH_SUMMARY : ALLOW_EVENTS]);
  // §6 step 1: the presentity is the Request-URI.
  const presentityUri = request.requestUri ?? '';
  const key = presentityUri ? await ctx.resolveKey(presentityUri) : undefined;
  if (!key) return fail(404);
  // Only the presentity itself, or an identity it delegated to, publishes its state.
  if (ctx.authenticated !== undefined) {
    const publisher = await ctx.resolveKey(ctx.authenticated);
    if (publisher !== key && !(publisher !== undefined && (await ctx.mayPublishFor?.(key, publisher))))
      return fail(403, [], 'Forbidden (not the presentity nor its delegate)');
  }

  // §6 step 5 (expiry): too brief → 423 with our minimum (the SUBSCRIBE one); too long → shortened; absent → default.
  const expires = expiresToGrant(request, ctx.policy);
  if (typeof expires !== 'number') return fail(expires.status, expires.headers, expires.reason);

  const ifMatch = request.sipIfMatch ?? null;
  const body = request.body.length > 0 ? Buffer.from(request.body) : null;
  let contentType: string | null = null;
  if (body) {
    // §6 step 3 (RFC 3261 §21.4.16): a body we cannot process → 415 naming what we accept.
    contentType = request.contentType?.mediaType ?? null;
    if (contentType !== pkg.type) return fail(415, [['Accept', pkg.type]]);
    if (body.length > MAX_PUBLISH_BODY) return fail(413, [], `${pkg.name} larger than ${MAX_PUBLISH_BODY} bytes`);
    try {
      pkg.parse(body);
    } catch (err) {
      return fail(400, [], phrase(`Malformed ${pkg.name}: ${(err as Error).message}`));
    }
  } else if (ifMatch === null) {
    // §6 step 4: an initial publication must carry the state.
    return fail(400, [], 'Initial PUBLISH without a body');
  }

  const value: PublishRequest = {
    requestId: ctx.requestId?.() ?? publishRequestId(request, key, ifMatch),
    frontEnd: ctx.frontEndId,
    receivedAt: ctx.now?.() ?? Date.now(),
    presentity: key,
    presentityUri,
    publisherUri: ctx.authenticated ?? from.uri,
    event: event.type,
    ifMatch,
    expires,
    contentType,
    body,
    // RFC 3903 §6: with no SIP-If-Match there is no state to check; the owner accepts what passed the checks above.
    answered: ifMatch === null,
  };
  return { submit: { key, value }, toTag };
}

/** RFC 3903 §6 for `Event: message-summary` from a messaging system: presentity, publisher, expiry, body. */
async function validateSummaryPublish(
  request: SipMessage,
  ctx: HandlerContext & Pick<PublishContext, 'messagingPublishers'>,
  toTag: string,
  fail: (status: number, headers?: SipHeaderLine[], reason?: string) => PublishDecision,
): Promise<PublishDecision> {
  const presentityUri = request.requestUri ?? '';
  const key = presentityUri ? await ctx.resolveKey(presentityUri) : undefined;
  if (!key) return fail(404);
  // The mailbox's owner does not publish its own counts: only a configured messaging system does (authenticated when auth is on).
  const publisher = bareUri(ctx.authenticated ?? request.from!.uri);
  if (!(ctx.messagingPublishers ?? []).some((p) => bareUri(p) === publisher)) return fail(403, [], 'Forbidden (not an authorised messaging system)');
  const expires = expiresToGrant(request, ctx.policy);
  if (typeof expires !== 'number') return fail(expires.status, expires.headers, expires.reason);
  const ifMatch = request.sipIfMatch ?? null;
  const etag = entityTagOf(publishRequestId(request, key, ifMatch));
  if (request.body.length === 0) {
    if (ifMatch === null) return fail(400, [], 'Initial PUBLISH without a body');
    // A refresh or removal: the counts stand until the platform publishes new ones (Messages-Waiting: no clears them).
    return { summary: { key, summary: null, expires, etag }, toTag };
  }
  if (request.contentType?.mediaType !== SIMPLE_MESSAGE_SUMMARY) return fail(415, [['Accept', SIMPLE_MESSAGE_SUMMARY]]);
  if (request.body.length > MAX_SUMMARY_BODY) return fail(413, [], `message summary larger than ${MAX_SUMMARY_BODY} bytes`);
  let summary: MessageSummary;
  try {
    summary = parseMessageSummary(Buffer.from(request.body).toString('utf8'));
  } catch (err) {
    return fail(400, [], phrase(`Malformed message summary: ${(err as Error).message}`));
  }
  return { summary: { key, summary, expires, etag }, toTag };
}

/**
 * The PublishRequest's id, and so the entity tag it creates (the event manager's entityTagOf):
 * a function of what identifies the SIP request — Call-ID, CSeq, From-tag, presentity and
 * SIP-If-Match — so a retry of a PUBLISH answered 500 (its fate unknown to the front end),
 * whichever front end it reaches, is recognised by the event manager as already applied and
 * answered with the same entity tag instead of creating a second, orphan publication.
 */
export function publishRequestId(request: SipMessage, key: string, ifMatch: string | null): string {
  const parts = [request.callId, String(request.cseq.seq), request.from?.tag ?? '', key, ifMatch ?? ''];
  return createHash('sha256').update(parts.join('\u0000')).digest('base64url').slice(0, 32);
}

/** The SIP answer for the owning event manager's PublishResponse. */
export function answerOf(r: PublishResponse, toTag: string): Answer {
  if (r.status >= 200 && r.status < 300) {
    const headers: SipHeaderLine[] = [];
    if (r.etag !== null) headers.push(['SIP-ETag', r.etag]);
    headers.push(['Expires', String(r.expires ?? 0)]);
    return { status: r.status, toTag, headers };
  }
  const headers: SipHeaderLine[] = r.status === 415 ? [['Accept', PIDF]] : [];
  return { status: r.status, toTag, headers, ...(r.reason ? { reason: phrase(r.reason) } : {}) };
}

/** 503 + Retry-After (RFC 3261 §21.5.4): too much in flight; the request went nowhere. */
export function overloaded(toTag: string, retryAfter: number): Answer {
  return { status: 503, toTag, headers: [['Retry-After', String(retryAfter)]], reason: 'Service Unavailable (overloaded)' };
}

/** The whole PUBLISH: validate, submit, answer; 500 + Retry-After when the event manager cannot be reached. */
export async function answerPublish(request: SipMessage, ctx: PublishContext, service: PublishService): Promise<Answer> {
  let d: Awaited<ReturnType<typeof validatePublish>>;
  try {
    d = await validatePublish(request, ctx);
  } catch (err) {
    // A lookup behind the checks (subscriber directory, publication delegates) did not answer: an outage, not a refusal.
    ctx.log?.(`PUBLISH ${request.callId} could not be checked, answering 500: ${(err as Error).message}`);
    return { status: 500, toTag: request.to?.tag ?? ctx.toTag ?? newTag(), headers: [['Retry-After', String(ctx.retryAfter ?? 5)]] };
  }
  if ('answer' in d) return d.answer;
  if (ctx.admit && !ctx.admit()) return overloaded(d.toTag, ctx.retryAfter ?? 5);
  if ('summary' in d) {
    const { key, summary, expires, etag } = d.summary;
    const ok: Answer = {
      status: 200,
      toTag: d.toTag,
      headers: [
        ['SIP-ETag', etag],
        ['Expires', String(expires)],
      ],
    };
    if (!summary) return ok;
    if (!service.messageSummary) return { status: 489, toTag: d.toTag, headers: [ALLOW_EVENTS] };
    try {
      await service.messageSummary(key, summary, ctx.now?.() ?? Date.now());
      return ok;
    } catch (err) {
      ctx.log?.(`PUBLISH message-summary ${request.callId} for ${key} not stored, answering 500: ${(err as Error).message}`);
      return { status: 500, toTag: d.toTag, headers: [['Retry-After', String(ctx.retryAfter ?? 5)]] };
    }
  }
  const { key, value } = d.submit;
  try {
    if (value.answered) {
      await service.store(key, value);
      return {
        status: 200,
        toTag: d.toTag,
        headers: [
          ['SIP-ETag', entityTagOf(value.requestId)],
          ['Expires', String(value.expires)],
        ],
      };
    }
    return answerOf(await service.submit(key, value), d.toTag);
  } catch (err) {
    ctx.log?.(`PUBLISH ${request.callId} for ${key} not ${value.answered ? 'stored' : 'answered'}, answering 500: ${(err as Error).message}`);
    return { status: 500, toTag: d.toTag, headers: [['Retry-After', String(ctx.retryAfter ?? 5)]] };
  }
}
