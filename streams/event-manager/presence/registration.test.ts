// REGISTER 2xx → contacts with absolute expiry; the 2xx Contact list is authoritative.
import { describe, expect, it } from 'vitest';
import type { SignalingEvent } from '../../../schemas/generated/records.ts';
import { apply } from './derive.ts';
import type { SubscriberPresence } from './model.ts';
import { parseContact } from './registration.ts';
import { sipRequest, sipResponse } from '../../../test/support/signalingEvents.ts';

const SUB = 'aor:sip:telephone1@172.16.98.101';
const T = Date.UTC(2026, 0, 1);
const C1 = 'sip:telephone1@172.16.98.1:44285;rinstance=1bf9390c5f03b9b1;transport=UDP';
const C2 = 'sip:telephone1@10.0.0.7:5060';

function fold(events: SignalingEvent[], s?: SubscriberPresence): SubscriberPresence {
  return events.reduce<SubscriberPresence | undefined>((st, e) => apply(st, e).state, s)!;
}
const ok = (t: number, contacts: string[], expires: number | null = 3600, cseq = 2) =>
  sipResponse(SUB, 'REGISTER', 200, t, { callId: 'r1', cseq, contacts, expires });

describe('SIP REGISTER', () => {
  it('parses the taps contact form uri;expires=N (other params stay in the URI)', () => {
    expect(parseContact(`${C1};expires=3600`)).toEqual({ uri: C1, expires: 3600 });
    expect(parseContact(C2)).toEqual({ uri: C2, expires: null });
  });

  it('200 → contacts with absolute expiry from the contact expires param, else the Expires header', () => {
    const s = fold([sipRequest(SUB, 'REGISTER', T, { callId: 'r1', contacts: [C1], expires: 3600 }), ok(T + 1, [`${C1};expires=600`, C2], 1800)]);
    expect(s.registration).toEqual({
      at: T + 1,
      contacts: [
        { uri: C2, registeredAt: T + 1, expiresAt: T + 1 + 1800_000 },
        { uri: C1, registeredAt: T + 1, expiresAt: T + 1 + 600_000 },
      ].sort((a, b) => (a.uri < b.uri ? -1 : 1)),
    });
  });

  it('the request alone and non-2xx responses change nothing', () => {
    const s = fold([
      sipRequest(SUB, 'REGISTER', T, { callId: 'r1', contacts: [C1], expires: 3600 }),
      sipResponse(SUB, 'REGISTER', 401, T + 1, { callId: 'r1', cseq: 1 }),
    ]);
    expect(s.registration.contacts).toEqual([]);
  });

  it('the 2xx list replaces the bindings: a contact absent from it is gone; a refresh keeps the first registration time', () => {
    const s1 = fold([ok(T, [C1, C2])]);
    const s2 = fold([ok(T + 60_000, [C1], 3600, 3)], s1);
    expect(s2.registration.contacts).toEqual([{ uri: C1, registeredAt: T, expiresAt: T + 60_000 + 3600_000 }]);
  });

  it('Expires: 0 removes the binding (de-registration)', () => {
    const s = fold([ok(T, [C1]), ok(T + 1000, [`${C1};expires=0`], 0, 3)]);
    expect(s.registration.contacts).toEqual([]);
    const all = fold([ok(T, [C1]), ok(T + 1000, [], 0, 3)]);
    expect(all.registration.contacts).toEqual([]);
  });

  it('an older 2xx arriving late does not bring back removed bindings', () => {
    const s = fold([ok(T + 1000, [], 0, 3), ok(T, [C1])]);
    expect(s.registration).toEqual({ at: T + 1000, contacts: [] });
  });
});
