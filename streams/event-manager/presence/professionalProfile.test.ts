// Issue 16's "done means", as pure evaluation: "professional profile: in meetings
// Mon–Fri 9–12 forward to my mobile, except for my boss; otherwise available" —
// what the boss and another watcher get at 10:00 and 13:00 local time.
import { describe, expect, it } from 'vitest';
import type { SignalingEvent } from '../../../schemas/generated/records.ts';
import { connectabilityFor } from './connectability.ts';
import { apply } from './derive.ts';
import type { SubscriberPresence } from './model.ts';
import { mapEvent } from '../../../test/support/signalingEvents.ts';
import { modeAt } from '../../../subscriber/availability/availabilityProfile.ts';
import { BOSS, COLLEAGUE, PROFESSIONAL } from '../../../test/support/availabilityProfiles.ts';

const SUB = 'msisdn:+33600000001';
const T = Date.UTC(2026, 0, 1);

function fold(events: SignalingEvent[]): SubscriberPresence {
  return events.reduce<SubscriberPresence | undefined>((st, e) => apply(st, e).state, undefined)!;
}
const attached = fold([mapEvent(SUB, 'updateLocation', 'invoke', T, { vlrNumber: '1', opc: 1 }), mapEvent(SUB, 'updateLocation', 'result', T + 1, { dpc: 1 })]);

// Tuesday 14 Jul 2026 in Paris (CEST, UTC+2); and a Tuesday in winter (CET, UTC+1).
const TUE_10 = Date.UTC(2026, 6, 14, 8);
const TUE_13 = Date.UTC(2026, 6, 14, 11);
const WINTER_TUE_10 = Date.UTC(2026, 0, 13, 9);

describe('professional profile: in meetings Mon–Fri 9–12 forward to my mobile, except for my boss; otherwise available', () => {
  it('at 10:00 local: another watcher sees in-transfer (to the mobile), the boss sees connectable', () => {
    for (const at of [TUE_10, WINTER_TUE_10]) {
      const other = connectabilityFor(attached, PROFESSIONAL, at, { identity: COLLEAGUE });
      expect(other.connectability).toBe('in-transfer');
      expect(other.mode?.state).toEqual({ kind: 'transfer', to: { terminal: 'mobile' } });
      const boss = connectabilityFor(attached, PROFESSIONAL, at, { identity: 'sip:boss@CORP.example;transport=tcp' });
      expect(boss).toMatchObject({ connectability: 'connectable', mode: { name: 'available' } });
    }
  });

  it('at 13:00 local: both see connectable', () => {
    for (const who of [BOSS, COLLEAGUE]) expect(connectabilityFor(attached, PROFESSIONAL, TUE_13, { identity: who }).connectability).toBe('connectable');
  });

  it('the answer next changes at 12:00 local, then at 09:00 the next weekday', () => {
    expect(modeAt(PROFESSIONAL.profiles[1]!, TUE_10).nextChangeAt).toBe(Date.UTC(2026, 6, 14, 10));
    expect(modeAt(PROFESSIONAL.profiles[1]!, TUE_13).nextChangeAt).toBe(Date.UTC(2026, 6, 15, 7));
    // Friday 13:00 → Monday 09:00.
    expect(modeAt(PROFESSIONAL.profiles[1]!, Date.UTC(2026, 6, 17, 11)).nextChangeAt).toBe(Date.UTC(2026, 6, 20, 7));
  });

  it('at the weekend, 10:00 local is "otherwise available" for everyone', () => {
    expect(connectabilityFor(attached, PROFESSIONAL, Date.UTC(2026, 6, 18, 8), { identity: COLLEAGUE }).connectability).toBe('connectable');
  });

  it('watchers outside the lists need consent (others: consent); the personal profile shows all as connectable', () => {
    const stranger = { identity: 'sip:stranger@elsewhere.example' };
    expect(connectabilityFor(attached, PROFESSIONAL, TUE_10, stranger).connectability).toBe('subject-to-authorization');
    expect(connectabilityFor(attached, PROFESSIONAL, TUE_10, { ...stranger, consented: true }).connectability).toBe('in-transfer');
    expect(connectabilityFor(attached, { ...PROFESSIONAL, active: 'personal' }, TUE_10, stranger).connectability).toBe('connectable');
  });
});
