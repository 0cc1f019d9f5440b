// The event manager's side of PUBLISH through the front end (RFC 3903, Pe):
// the owning member checks SIP-If-Match against the subscriber's
// publications and creates, refreshes, modifies or removes one — with the
// same model and commit rule as the PUBLISHes the taps observe
// (../presence/publication.ts) — and answers the waiting front end. Pure:
// eventManager.ts writes the new state, the response and the NOTIFYs in one
// transaction.
import { entityTagOf } from '../../../presence-document/entityTag.ts';
import { DIALOG_INFO, parseDialogInfo, type DialogInfoDocument } from '../../../presence-document/dialogInfo.ts';
import { parsePidf } from '../../../presence-document/parse.ts';
import type { PresenceDocument } from '../../../presence-document/model.ts';
import type { PublishRequest, PublishResponse } from '../../../schemas/generated/records.ts';
import type { DialogPublication, SubscriberPresence } from '../presence/model.ts';
import { commitPublication } from '../presence/publication.ts';
import { sameFacts } from '../presence/sameFacts.ts';

const PIDF_TYPES = new Set(['application/pidf+xml', 'application/cpim-pidf+xml']);
/**
 * Publications one presentity may hold (devices × clients): each is kept in the state and its
 * changelog record until it expires. One more initial publication replaces the oldest one (a
 * device that lost its entity tag, e.g. after a reboot, publishes afresh and leaves an orphan
 * behind): refusing it instead would make the answer depend on state the front end, which
 * answers initial PUBLISHes itself, does not hold.
 */
export const MAX_PUBLICATIONS = 16;

export { entityTagOf };

/** Without the least recently published entry, when one more would pass MAX_PUBLICATIONS. */
function roomForOneMore<T extends { readonly publishedAt: number; readonly etag: string }>(pubs: readonly T[]): readonly T[] {
  if (pubs.length < MAX_PUBLICATIONS) return pubs;
  const oldest = pubs.reduce((a, b) => (b.publishedAt < a.publishedAt || (b.publishedAt === a.publishedAt && b.etag < a.etag) ? b : a));
  return pubs.filter((p) => p !== oldest);
}

interface PublishOutcome {
  readonly state: SubscriberPresence;
  /** The facts changed (version incremented): store, current-presence and NOTIFYs follow. */
  readonly changed: boolean;
  readonly response: PublishResponse;
}

/** The body as PIDF text, or why it cannot be published. */
function pidfText(req: PublishRequest): { pidf: string | null; document?: PresenceDocument } | { status: number; reason: string } {
  if (req.body === null || req.body.length === 0) return { pidf: null };
  const type = (req.contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (!PIDF_TYPES.has(type)) return { status: 415, reason: `Unsupported Media Type ${req.contentType ?? '(none)'}` };
  const text = req.body.toString('utf8');
  try {
    return { pidf: text, document: parsePidf(text) };
  } catch (err) {
    return { status: 400, reason: `Malformed PIDF: ${(err as Error).message}` };
  }
}

/** The body as dialog-info, or why it cannot be published. */
function dialogInfoText(req: PublishRequest): { body: string | null; document?: DialogInfoDocument } | { status: number; reason: string } {
  if (req.body === null || req.body.length === 0) return { body: null };
  const type = (req.contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== DIALOG_INFO) return { status: 415, reason: `Unsupported Media Type ${req.contentType ?? '(none)'}` };
  const text = req.body.toString('utf8');
  try {
    return { body: text, document: parseDialogInfo(text) };
  } catch (err) {
    return { status: 400, reason: `Malformed dialog-info: ${(err as Error).message}` };
  }
}

/**
 * The dialog publications after a successful PUBLISH (RFC 3903 §6), as
 * commitPublication does for PIDF: removal, new body (initial, modify) or the
 * If-Match publication's body under the new tag (refresh).
 */
function commitDialogPublication(
  pubs: readonly DialogPublication[],
  p: { ifMatch: string | null; body: string | null; document?: DialogInfoDocument },
  etag: string,
  expiresS: number,
  t: number,
): readonly DialogPublication[] {
  const old = p.ifMatch !== null ? pubs.find((x) => x.etag === p.ifMatch) : undefined;
  const rest = (old ? pubs.filter((x) => x !== old) : pubs).filter((x) => x.etag !== etag);
  if (expiresS <= 0) return rest;
  const byTag = (a: DialogPublication, b: DialogPublication) => (a.etag < b.etag ? -1 : a.etag > b.etag ? 1 : 0);
  if (p.body !== null && p.document) {
    const publishedAt = old && old.body === p.body ? old.publishedAt : t;
    return [...rest, { etag, document: p.document, body: p.body, publishedAt, expiresAt: t + expiresS * 1000 }].sort(byTag);
  }
  if (!old) return pubs;
  return [...rest, { ...old, etag, expiresAt: t + expiresS * 1000 }].sort(byTag);
}

/** Applies one PublishRequest to the subscriber's presence (or, for Event: dialog, its published calls); always yields the response for the front end. */
export function applyPublishRequest(s: SubscriberPresence, req: PublishRequest): PublishOutcome {
  const answer = (status: number, o: Partial<Pick<PublishResponse, 'etag' | 'expires' | 'reason'>> = {}): PublishResponse => ({
    requestId: req.requestId,
    frontEnd: req.frontEnd,
    status,
    etag: o.etag ?? null,
    expires: o.expires ?? null,
    reason: o.reason ?? null,
    time: req.receivedAt,
  });
  const unchanged = (response: PublishResponse): PublishOutcome => ({ state: s, changed: false, response });
  const etag = entityTagOf(req.requestId);

  // Already applied (the same record read twice): the same answer, no change.
  if (s.publications.some((p) => p.etag === etag) || s.dialogPublications.some((p) => p.etag === etag)) {
    return unchanged(answer(200, { etag, expires: req.expires }));
  }
  if (!Number.isInteger(req.expires) || req.expires < 0) return unchanged(answer(400, { reason: `Invalid Expires ${req.expires}` }));
  if (req.event === 'dialog') {
    // A PBX's calls (pua_dialoginfo): kept apart from presence publications, so the PIDF is untouched and only dialog watchers hear of them.
    if (req.ifMatch !== null && !s.dialogPublications.some((p) => p.etag === req.ifMatch))
      return unchanged(answer(412, { reason: 'Conditional Request Failed' }));
    const doc = dialogInfoText(req);
    if ('status' in doc) return unchanged(answer(doc.status, { reason: doc.reason }));
    if (req.ifMatch === null && doc.body === null) return unchanged(answer(400, { reason: 'Initial PUBLISH without a body' }));
    const kept = req.ifMatch === null && req.expires > 0 ? roomForOneMore(s.dialogPublications) : s.dialogPublications;
    const after: SubscriberPresence = {
      ...s,
      dialogPublications: commitDialogPublication(kept, { ifMatch: req.ifMatch, ...doc }, etag, req.expires, req.receivedAt),
    };
    const response = answer(200, { etag, expires: req.expires });
    if (sameFacts(s, after)) return { state: s, changed: false, response };
    return { state: { ...after, version: s.version + 1, updatedAt: Math.max(s.updatedAt, req.receivedAt) }, changed: true, response };
  }
  // RFC 3903 §6 step 4: an entity tag we do not hold (expired, removed, never issued).
  if (req.ifMatch !== null && !s.publications.some((p) => p.etag === req.ifMatch)) return unchanged(answer(412, { reason: 'Conditional Request Failed' }));
  const body = pidfText(req);
  if ('status' in body) return unchanged(answer(body.status, { reason: body.reason }));
  // RFC 3903 §6 step 5: an initial publication must carry the state.
  if (req.ifMatch === null && body.pidf === null) return unchanged(answer(400, { reason: 'Initial PUBLISH without a body' }));
  const publications = commitPublication(
    req.ifMatch === null && req.expires > 0 ? roomForOneMore(s.publications) : s.publications,
    { ifMatch: req.ifMatch, pidf: body.pidf, ...(body.document ? { document: body.document } : {}) },
    etag,
    req.expires,
    req.receivedAt,
  );
  const after: SubscriberPresence = { ...s, publications };
  const response = answer(200, { etag, expires: req.expires });
  if (sameFacts(s, after)) return { state: s, changed: false, response };
  return { state: { ...after, version: s.version + 1, updatedAt: Math.max(s.updatedAt, req.receivedAt) }, changed: true, response };
}
