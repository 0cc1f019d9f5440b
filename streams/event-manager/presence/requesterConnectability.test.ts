// Mode selection (manual, profile rules, mode rules, default; per requester) and
// the connectability each requester gets from the lists and the mode.
import { describe, expect, it } from 'vitest';
import type { SignalingEvent } from '../../../schemas/generated/records.ts';
import { connectabilityFor } from './connectability.ts';
import { apply } from './derive.ts';
import type { SubscriberPresence } from './model.ts';
import { mapEvent } from '../../../test/support/signalingEvents.ts';
import { listDecision, modeAt, type AvailabilityProfile, type UserProfiles } from '../../../subscriber/availability/availabilityProfile.ts';

const SUB = 'msisdn:+15550001';
const T = Date.UTC(2026, 0, 1);
const fold = (events: SignalingEvent[]): SubscriberPresence => events.reduce<SubscriberPresence | undefined>((st, e) => apply(st, e).state, undefined)!;
const attached = fold([mapEvent(SUB, 'updateLocation', 'invoke', T, { vlrNumber: '1', opc: 1 }), mapEvent(SUB, 'updateLocation', 'result', T + 1, { dpc: 1 })]);
const purged = fold([mapEvent(SUB, 'purgeMS', 'invoke', T, { vlrNumber: '1' })]);
const nothingKnown = fold([mapEvent(SUB, 'sendAuthenticationInfo', 'invoke', T)]);

const NOON_DAILY = { every: 'week', days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], from: '12:00', to: '14:00' } as const;
const BASE: AvailabilityProfile = {
  name: 'p',
  timeZone: 'America/New_York',
  defaultMode: 'open',
  modes: [
    { name: 'open', state: { kind: 'available' } },
    { name: 'lunch', state: { kind: 'not-available' }, appliesTo: { only: ['sip:family@home.example'] }, rules: [NOON_DAILY] },
    { name: 'gym', state: { kind: 'hidden' }, rules: [NOON_DAILY] },
    { name: 'travel', state: { kind: 'transfer', to: { number: '+15550009' } } },
  ],
  rules: [{ mode: 'travel', calendar: { every: 'year', month: 8, day: 1, from: '00:00', to: '24:00' } }],
  lists: { allowed: [], denied: ['sip:ex@old.example'], consent: ['sip:new@friend.example'], watched: [], others: 'allowed' },
};
const one = (p: AvailabilityProfile): UserProfiles => ({ active: p.name, profiles: [p] });
// 13:00 in New York on Wed 15 Jul 2026 (EDT) and on 1 Aug 2026.
const JUL_15_13H = Date.UTC(2026, 6, 15, 17);
const AUG_1_13H = Date.UTC(2026, 7, 1, 17);

describe('availability profile', () => {
  it('the first rule-active mode that applies to the requester, else the default', () => {
    expect(modeAt(BASE, JUL_15_13H, 'sip:family@home.example').mode.name).toBe('lunch');
    expect(modeAt(BASE, JUL_15_13H, 'sip:someone@else.example').mode.name).toBe('gym');
    expect(modeAt(BASE, Date.UTC(2026, 6, 15, 20)).mode.name).toBe('open');
  });

  it('profile rules come before the modes’ own rules', () => {
    expect(modeAt(BASE, AUG_1_13H, 'sip:family@home.example').mode.name).toBe('travel');
    // 1 Aug ends at local midnight: 04:00 UTC on 2 Aug.
    expect(modeAt(BASE, Date.UTC(2026, 7, 1, 20)).nextChangeAt).toBe(Date.UTC(2026, 7, 2, 4));
  });

  it('a manual mode wins over the rules, for those it applies to', () => {
    expect(modeAt({ ...BASE, manualMode: 'open' }, JUL_15_13H).mode.name).toBe('open');
    expect(modeAt({ ...BASE, manualMode: 'lunch' }, Date.UTC(2026, 6, 15, 20), 'sip:family@home.example').mode.name).toBe('lunch');
    expect(modeAt({ ...BASE, manualMode: 'lunch' }, Date.UTC(2026, 6, 15, 20), 'sip:other@x.example').mode.name).toBe('open');
  });

  it('connectability per requester: hidden → unknown, not-available → not-connectable, transfer → in-transfer', () => {
    expect(connectabilityFor(attached, one(BASE), JUL_15_13H, { identity: 'sip:someone@else.example' }).connectability).toBe('unknown');
    expect(connectabilityFor(attached, one(BASE), JUL_15_13H, { identity: 'sip:family@home.example' }).connectability).toBe('not-connectable');
    expect(connectabilityFor(purged, one(BASE), AUG_1_13H).connectability).toBe('in-transfer');
    expect(connectabilityFor(attached, one(BASE), Date.UTC(2026, 6, 15, 20)).connectability).toBe('connectable');
    expect(connectabilityFor(purged, one(BASE), Date.UTC(2026, 6, 15, 20)).connectability).toBe('not-connectable');
  });

  it('lists: denied → unknown; consent → subject-to-authorization until consented; nothing known → unknown', () => {
    const at = Date.UTC(2026, 6, 15, 20);
    expect(listDecision(BASE.lists, '<sip:ex@OLD.example>;tag=1')).toBe('denied');
    expect(connectabilityFor(attached, one(BASE), at, { identity: 'sip:ex@old.example' }).connectability).toBe('unknown');
    expect(connectabilityFor(attached, one(BASE), at, { identity: 'sip:new@friend.example' }).connectability).toBe('subject-to-authorization');
    expect(connectabilityFor(attached, one(BASE), at, { identity: 'sip:new@friend.example', consented: true }).connectability).toBe('connectable');
    expect(connectabilityFor(nothingKnown, one(BASE), at).connectability).toBe('unknown');
  });

  it('an active profile or mode that is not defined is an error naming it', () => {
    expect(() => connectabilityFor(attached, { active: 'nope', profiles: [BASE] }, T)).toThrow('nope');
    expect(() => modeAt({ ...BASE, defaultMode: 'ghost' }, Date.UTC(2026, 6, 15, 20))).toThrow('ghost');
  });
});
