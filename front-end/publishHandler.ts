// PUBLISH at the stateless front end (RFC 3903, the Pe interface): what the
// front end can decide alone — Event, presentity, Expires, Content-Type,
// well-formed PIDF — and, for the rest, a request/reply through Kafka: a
// PublishRequest keyed by the presentity goes to the event manager that owns
// it (which holds the publications, checks SIP-If-Match and hands out entity
// tags) and its PublishResponse becomes the SIP answer. Kafka not taking the
// request, or no answer in time, is 500 with Retry-After, never a guess.
import { randomUUID } from 'node:crypto';
import { parsePidf } from '../presence-document/parse.ts';
import type { SipMessage } from '../protocols/decode/sip/index.ts';
import type { PublishRequest, PublishResponse } from '../schemas/generated/records.ts';
import { newTag, type SipHeaderLine } from '../protocols/sip/message/index.ts';
import { expiresToGrant } from './requestChecks.ts';
import { PIDF, PRESENCE_EVENT } from './subscribeHandler.ts';
import { type Answer, type HandlerContext } from './handlerContext.ts';

/** Hands a PublishRequest to the owning event manager and resolves with its answer. */
export interface PublishService {
  /** Rejects when Kafka does not take the request or no answer comes in time (PublishUnansweredError). */
  submit(key: string, request: PublishRequest): Promise<PublishResponse>;
}

export class PublishUnansweredError extends Error {
  constructor(requestId: string, timeoutMs: number) {
    super(`no answer to PUBLISH ${requestId} from the owning event manager within ${timeoutMs} ms`);
    this.name = 'PublishUnansweredError';
  }
}

export interface PublishContext extends HandlerContext {
  /** Seconds in Retry-After of the 500 when the event manager cannot be reached. Default 5. */
  readonly retryAfter?: number;
  readonly log?: (line: string) => void;
}

/** Either the answer now, or the record to submit. */
type PublishDecision = { readonly answer: Answer } | { readonly submit: { readonly key: string; readonly value: PublishRequest }; readonly toTag: string };

/** Largest PIDF accepted: it is kept in the owning event manager's state (and changelog) until it expires. */
export const MAX_PUBLISH_BODY = 64 * 1024;

/** A reason phrase is one short line (the event manager's may quote a parser). */
const phrase = (s: string) => s.replace(/[\r\n\t]+/g, ' ').slice(0, 120);

/** The front end's own checks, in RFC 3903 §6 order where it can apply them without state. */
export async function validatePublish(request: SipMessage, ctx: HandlerContext): Promise<PublishDecision> {
  const toTag = request.to?.tag ?? ctx.toTag ?? newTag();
  const fail = (status: number, headers: SipHeaderLine[] = [], reason?: string): PublishDecision => ({
    answer: { status, toTag, headers, ...(reason ? { reason } : {}) },
  });

  const from = request.from;
  if (!from?.uri) return fail(400, [], 'Missing From');
  // §6 step 2: the event package.
  const event = request.event;
  if (!event || event.type !== PRESENCE_EVENT) return fail(489, [['Allow-Events', PRESENCE_EVENT]]);
  // §6 step 1: the presentity is the Request-URI.
  const presentityUri = request.requestUri ?? '';
  const key = presentityUri ? await ctx.resolveKey(presentityUri) : undefined;
  if (!key) return fail(404);

  // §6 step 5 (expiry): too brief → 423 with our minimum (the SUBSCRIBE one); too long → shortened; absent → default.
  const expires = expiresToGrant(request, ctx.policy);
  if (typeof expires !== 'number') return fail(expires.status, expires.headers, expires.reason);

  const ifMatch = request.sipIfMatch ?? null;
  const body = request.body.length > 0 ? Buffer.from(request.body) : null;
  let contentType: string | null = null;
  if (body) {
    // §6 step 3 (RFC 3261 §21.4.16): a body we cannot process → 415 naming what we accept.
    contentType = request.contentType?.mediaType ?? null;
    if (contentType !== PIDF) return fail(415, [['Accept', PIDF]]);
    if (body.length > MAX_PUBLISH_BODY) return fail(413, [], `PIDF larger than ${MAX_PUBLISH_BODY} bytes`);
    try {
      parsePidf(body);
    } catch (err) {
      return fail(400, [], phrase(`Malformed PIDF: ${(err as Error).message}`));
    }
  } else if (ifMatch === null) {
    // §6 step 4: an initial publication must carry the state.
    return fail(400, [], 'Initial PUBLISH without a body');
  }

  const value: PublishRequest = {
    requestId: ctx.requestId?.() ?? randomUUID(),
    frontEnd: ctx.frontEndId,
    receivedAt: ctx.now?.() ?? Date.now(),
    presentity: key,
    presentityUri,
    publisherUri: from.uri,
    ifMatch,
    expires,
    contentType,
    body,
  };
  return { submit: { key, value }, toTag };
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

/** The whole PUBLISH: validate, submit, answer; 500 + Retry-After when the event manager cannot be reached. */
export async function answerPublish(request: SipMessage, ctx: PublishContext, service: PublishService): Promise<Answer> {
  const d = await validatePublish(request, ctx);
  if ('answer' in d) return d.answer;
  try {
    return answerOf(await service.submit(d.submit.key, d.submit.value), d.toTag);
  } catch (err) {
    ctx.log?.(`PUBLISH ${request.callId} for ${d.submit.key} not answered, answering 500: ${(err as Error).message}`);
    return { status: 500, toTag: d.toTag, headers: [['Retry-After', String(ctx.retryAfter ?? 5)]] };
  }
}
