// PUBLISH (RFC 3903): initial, refresh with SIP-If-Match, modify, remove with
// Expires: 0; the body is the request's, the entity tag the 2xx's.
import { describe, expect, it } from 'vitest';
import type { SignalingEvent } from '../../../schemas/generated/records.ts';
import { apply } from './derive.ts';
import type { SubscriberPresence } from './model.ts';
import { pidfBody as pidf, sipRequest, sipResponse } from '../../../test/support/signalingEvents.ts';

const SUB = 'aor:sip:telephone2@172.16.98.101';
const T = Date.UTC(2026, 0, 1);

function fold(events: SignalingEvent[], s?: SubscriberPresence): SubscriberPresence {
  return events.reduce<SubscriberPresence | undefined>((st, e) => apply(st, e).state, s)!;
}

const publish = (t: number, cseq: number, o: { body?: string; ifMatch?: string; expires?: number | null }) =>
  sipRequest(SUB, 'PUBLISH', t, {
    callId: 'p1',
    cseq,
    event: 'presence',
    expires: o.expires ?? 600,
    ifMatch: o.ifMatch ?? null,
    contentType: o.body ? 'application/pidf+xml' : null,
    body: o.body ? Buffer.from(o.body) : null,
  });
const ok = (t: number, cseq: number, etag: string, expires: number | null = 600) => sipResponse(SUB, 'PUBLISH', 200, t, { callId: 'p1', cseq, etag, expires });

describe('SIP PUBLISH', () => {
  const initial = [publish(T, 1, { body: pidf('Online', 'away') }), ok(T + 5, 1, 'e1')];

  it('initial: request body + 2xx entity tag and granted expiry → a publication', () => {
    const s = fold(initial);
    expect(s.publications).toHaveLength(1);
    expect(s.publications[0]).toMatchObject({ etag: 'e1', publishedAt: T + 5, expiresAt: T + 5 + 600_000 });
    expect(s.publications[0]!.document.persons[0]!.activities).toEqual(['away']);
    expect(s.pendingPublishes).toEqual([]);
  });

  it('the request alone publishes nothing; an error response (489 Bad Event) drops it', () => {
    expect(fold([initial[0]!]).publications).toEqual([]);
    const s = fold([initial[0]!, sipResponse(SUB, 'PUBLISH', 489, T + 1, { callId: 'p1', cseq: 1 })]);
    expect(s.publications).toEqual([]);
    expect(s.pendingPublishes).toEqual([]);
  });

  it('refresh (If-Match, no body): same document under the new tag, new expiry, same publication time', () => {
    const s = fold([...initial, publish(T + 300_000, 2, { ifMatch: 'e1' }), ok(T + 300_001, 2, 'e2', 900)]);
    expect(s.publications.map((p) => [p.etag, p.publishedAt, p.expiresAt])).toEqual([['e2', T + 5, T + 300_001 + 900_000]]);
    expect(s.publications[0]!.document.services[0]!.notes[0]!.text).toBe('Online');
  });

  it('modify (If-Match with body) replaces the document', () => {
    const s = fold([...initial, publish(T + 1000, 2, { ifMatch: 'e1', body: pidf('On the phone', 'on-the-phone') }), ok(T + 1001, 2, 'e3')]);
    expect(s.publications.map((p) => p.etag)).toEqual(['e3']);
    expect(s.publications[0]!.document.persons[0]!.activities).toEqual(['on-the-phone']);
  });

  it('remove (If-Match, Expires: 0)', () => {
    const s = fold([...initial, publish(T + 1000, 2, { ifMatch: 'e1', expires: 0 }), ok(T + 1001, 2, 'e1', 0)]);
    expect(s.publications).toEqual([]);
  });

  it('412 to a conditional request: the ESC no longer holds the tag', () => {
    const s = fold([...initial, publish(T + 1000, 2, { ifMatch: 'e1' }), sipResponse(SUB, 'PUBLISH', 412, T + 1001, { callId: 'p1', cseq: 2 })]);
    expect(s.publications).toEqual([]);
  });

  it('a body that is not PIDF XML is not published', () => {
    const s = fold([publish(T, 1, { body: '<presence' }), ok(T + 1, 1, 'bad')]);
    expect(s.publications).toEqual([]);
  });

  it('two publishers (two devices): both kept, by tag', () => {
    const s = fold([
      ...initial,
      sipRequest(SUB, 'PUBLISH', T + 10, {
        callId: 'p2',
        cseq: 1,
        event: 'presence',
        expires: 600,
        contentType: 'application/pidf+xml',
        body: Buffer.from(pidf('Desk')),
      }),
      sipResponse(SUB, 'PUBLISH', 200, T + 11, { callId: 'p2', cseq: 1, etag: 'd1', expires: 600 }),
    ]);
    expect(s.publications.map((p) => p.etag)).toEqual(['d1', 'e1']);
  });
});
