// SIP PUBLISH (RFC 3903) → published presence by entity tag. The request
// carries the body, SIP-If-Match and the asked expiry; the 2xx carries the
// SIP-ETag and the granted expiry. So a request is held as pending until its
// final response (matched by Call-ID and CSeq) decides: initial (no If-Match,
// body), refresh (If-Match, no body: same document, new tag and expiry),
// modify (If-Match and body), remove (If-Match, Expires: 0).
import { parsePidf } from '../../../presence-document/parse.ts';
import type { PresenceDocument } from '../../../presence-document/model.ts';
import type { SignalingEvent } from '../../../schemas/generated/records.ts';
import type { DerivationConfig } from './config.ts';
import type { PendingPublish, Publication, SubscriberPresence } from './model.ts';

const PIDF_TYPES = new Set(['application/pidf+xml', 'application/cpim-pidf+xml']);
const MAX_PENDING = 8;

/** The body as PIDF text when it parses, else null (the ESC would refuse it with 400). */
function pidfBody(e: SignalingEvent): string | null {
  const sip = e.sip!;
  if (!sip.body || !sip.contentType || !PIDF_TYPES.has(sip.contentType.toLowerCase())) return null;
  const text = sip.body.toString('utf8');
  try {
    parsePidf(text);
    return text;
  } catch {
    return null;
  }
}

function byTag(a: Publication, b: Publication): number {
  return a.etag < b.etag ? -1 : a.etag > b.etag ? 1 : 0;
}

function request(s: SubscriberPresence, e: SignalingEvent): SubscriberPresence {
  const sip = e.sip!;
  const p: PendingPublish = { callId: sip.callId, cseq: sip.cseq, ifMatch: sip.ifMatch, expires: sip.expires, pidf: pidfBody(e), at: e.time };
  const others = s.pendingPublishes.filter((x) => x.callId !== p.callId || x.cseq !== p.cseq);
  return { ...s, pendingPublishes: [...others, p].slice(-MAX_PENDING) };
}

/** What a PUBLISH asks for, as far as committing it goes (a tapped ESC's pending request, or a front end's PublishRequest). */
type PublishIntent = Pick<PendingPublish, 'ifMatch' | 'pidf'> & {
  /** The body already parsed by whoever checked it (parsing PIDF was the event manager's largest cost per PUBLISH). */
  readonly document?: PresenceDocument;
};

/**
 * The publications after a successful PUBLISH (RFC 3903 §6): removal when
 * expiresS is 0, else the publication under its new tag — the new body
 * (initial, modify) or the If-Match publication's (refresh). Shared by the
 * taps' observed PUBLISHes and the event manager's own (../publish/).
 */
export function commitPublication(pubs: readonly Publication[], p: PublishIntent, etag: string | null, expiresS: number, t: number): readonly Publication[] {
  const old = p.ifMatch !== null ? pubs.find((x) => x.etag === p.ifMatch) : undefined;
  const rest = old ? pubs.filter((x) => x !== old) : pubs;
  if (expiresS <= 0) return rest; // removal (or a pointless initial with Expires: 0)
  if (etag === null) return pubs; // a 2xx must carry SIP-ETag; without it the state cannot be addressed
  if (p.pidf !== null) {
    // Modifying with identical content keeps the publication time: the rendered document does not change.
    const publishedAt = old && old.pidf === p.pidf ? old.publishedAt : t;
    return [
      ...rest.filter((x) => x.etag !== etag),
      { etag, document: p.document ?? parsePidf(p.pidf), pidf: p.pidf, publishedAt, expiresAt: t + expiresS * 1000 },
    ].sort(byTag);
  }
  if (!old) return pubs; // refresh of an entity we never saw
  return [...rest.filter((x) => x.etag !== etag), { ...old, etag, expiresAt: t + expiresS * 1000 }].sort(byTag);
}

function response(s: SubscriberPresence, e: SignalingEvent, cfg: DerivationConfig): SubscriberPresence {
  const sip = e.sip!;
  if (sip.status === null || sip.status < 200) return s;
  const p = s.pendingPublishes.find((x) => x.callId === sip.callId && x.cseq === sip.cseq);
  if (!p) return s;
  const out = { ...s, pendingPublishes: s.pendingPublishes.filter((x) => x !== p) };
  if (sip.status >= 300) {
    // 412: the ESC no longer holds that entity tag (RFC 3903 §6).
    return sip.status === 412 && p.ifMatch !== null ? { ...out, publications: out.publications.filter((x) => x.etag !== p.ifMatch) } : out;
  }
  const expiresS = p.expires === 0 ? 0 : (sip.expires ?? p.expires ?? cfg.defaultPublishExpiresS);
  return { ...out, publications: commitPublication(out.publications, p, sip.etag, expiresS, e.time) };
}

export function applyPublish(s: SubscriberPresence, e: SignalingEvent, cfg: DerivationConfig): SubscriberPresence {
  const sip = e.sip;
  if (!sip || sip.method !== 'PUBLISH' || (sip.event !== null && sip.event !== 'presence' && e.kind === 'request')) return s;
  return e.kind === 'request' ? request(s, e) : response(s, e, cfg);
}
