// Weekly / monthly / yearly rule periods: active or not, and the next boundary,
// across DST changes and in zones other than the machine's.
import { afterEach, describe, expect, it } from 'vitest';
import { minutesOf, ruleAt, type CalendarRule } from './calendarRule.ts';

const utc = (y: number, mo: number, d: number, h: number, mi = 0): number => Date.UTC(y, mo - 1, d, h, mi);
const OFFICE: CalendarRule = { every: 'week', days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '12:00' };
const PARIS = 'Europe/Paris';
const NEW_YORK = 'America/New_York';

describe('calendar rules', () => {
  const machineZone = process.env.TZ;
  afterEach(() => {
    if (machineZone === undefined) delete process.env.TZ;
    else process.env.TZ = machineZone;
  });

  it('weekly Mon–Fri 09:00–12:00 Europe/Paris: active from 09:00 (inclusive) to 12:00 (exclusive), local time', () => {
    // Wed 15 Jul 2026, CEST (UTC+2).
    expect(ruleAt(OFFICE, PARIS, utc(2026, 7, 15, 6, 59))).toEqual({ active: false, nextBoundary: utc(2026, 7, 15, 7) });
    expect(ruleAt(OFFICE, PARIS, utc(2026, 7, 15, 7))).toEqual({ active: true, nextBoundary: utc(2026, 7, 15, 10) });
    expect(ruleAt(OFFICE, PARIS, utc(2026, 7, 15, 10))).toEqual({ active: false, nextBoundary: utc(2026, 7, 16, 7) });
    // Friday noon → Monday 09:00.
    expect(ruleAt(OFFICE, PARIS, utc(2026, 7, 17, 10))).toEqual({ active: false, nextBoundary: utc(2026, 7, 20, 7) });
  });

  it('spring-forward in Paris: Friday before the change (CET) → Monday 09:00 CEST, an hour earlier in UTC', () => {
    expect(ruleAt(OFFICE, PARIS, utc(2026, 3, 27, 11, 30))).toEqual({ active: false, nextBoundary: utc(2026, 3, 30, 7) });
    expect(ruleAt(OFFICE, PARIS, utc(2026, 3, 27, 8))).toEqual({ active: true, nextBoundary: utc(2026, 3, 27, 11) });
  });

  it('fall-back in Paris: a nightly 22:00–06:00 period spanning the change lasts nine hours', () => {
    const nightly: CalendarRule = { every: 'week', days: ['sat'], from: '22:00', to: '06:00' };
    // Sat 24 Oct 22:00 CEST = 20:00 UTC; Sun 25 Oct 06:00 CET = 05:00 UTC.
    expect(ruleAt(nightly, PARIS, utc(2026, 10, 24, 19))).toEqual({ active: false, nextBoundary: utc(2026, 10, 24, 20) });
    expect(ruleAt(nightly, PARIS, utc(2026, 10, 24, 20))).toEqual({ active: true, nextBoundary: utc(2026, 10, 25, 5) });
    expect(ruleAt(nightly, PARIS, utc(2026, 10, 25, 4, 59)).active).toBe(true);
    // Next Saturday is in CET: 22:00 = 21:00 UTC.
    expect(ruleAt(nightly, PARIS, utc(2026, 10, 25, 5))).toEqual({ active: false, nextBoundary: utc(2026, 10, 31, 21) });
  });

  it('times in the hour spring-forward skips are shifted past the change, keeping the period whole', () => {
    const skipped: CalendarRule = { every: 'week', days: ['sun'], from: '02:10', to: '02:50' };
    // Sun 29 Mar 2026 in Paris: 02:10 does not exist → 03:10 CEST = 01:10 UTC, until 03:50 CEST.
    expect(ruleAt(skipped, PARIS, utc(2026, 3, 29, 0, 30))).toEqual({ active: false, nextBoundary: utc(2026, 3, 29, 1, 10) });
    expect(ruleAt(skipped, PARIS, utc(2026, 3, 29, 1, 10))).toEqual({ active: true, nextBoundary: utc(2026, 3, 29, 1, 50) });
    // A week later, back on the wall clock: 02:10 CEST = 00:10 UTC.
    expect(ruleAt(skipped, PARIS, utc(2026, 3, 29, 1, 50))).toEqual({ active: false, nextBoundary: utc(2026, 4, 5, 0, 10) });
  });

  it('America/New_York: Sunday 01:00–03:00 lasts one hour on spring-forward day and three on fall-back day', () => {
    const early: CalendarRule = { every: 'week', days: ['sun'], from: '01:00', to: '03:00' };
    // 8 Mar 2026: 01:00 EST = 06:00 UTC, 03:00 EDT = 07:00 UTC.
    expect(ruleAt(early, NEW_YORK, utc(2026, 3, 8, 5))).toEqual({ active: false, nextBoundary: utc(2026, 3, 8, 6) });
    expect(ruleAt(early, NEW_YORK, utc(2026, 3, 8, 6))).toEqual({ active: true, nextBoundary: utc(2026, 3, 8, 7) });
    // 1 Nov 2026: 01:00 EDT = 05:00 UTC, 03:00 EST = 08:00 UTC.
    expect(ruleAt(early, NEW_YORK, utc(2026, 11, 1, 5))).toEqual({ active: true, nextBoundary: utc(2026, 11, 1, 8) });
    expect(ruleAt(early, NEW_YORK, utc(2026, 11, 1, 7, 59)).active).toBe(true);
  });

  it("the machine's zone plays no part: Kolkata's 09:00 is 03:30 UTC whatever TZ says", () => {
    const rule: CalendarRule = { every: 'week', days: ['mon'], from: '09:00', to: '10:00' };
    const expected = { active: false, nextBoundary: utc(2026, 7, 13, 3, 30) };
    for (const tz of ['UTC', 'America/Los_Angeles', 'Pacific/Kiritimati']) {
      process.env.TZ = tz;
      expect(ruleAt(rule, 'Asia/Kolkata', utc(2026, 7, 12, 12))).toEqual(expected);
    }
  });

  it('yearly Feb 29 occurs only in leap years', () => {
    const leapDay: CalendarRule = { every: 'year', month: 2, day: 29, from: '00:00', to: '24:00' };
    // From 1 Mar 2026 the next is 29 Feb 2028 00:00 CET = 28 Feb 23:00 UTC.
    expect(ruleAt(leapDay, PARIS, utc(2026, 3, 1, 12))).toEqual({ active: false, nextBoundary: utc(2028, 2, 28, 23) });
    expect(ruleAt(leapDay, PARIS, utc(2028, 2, 29, 12))).toEqual({ active: true, nextBoundary: utc(2028, 2, 29, 23) });
  });

  it("monthly on the month's last day, and on the 31st (skipped in shorter months)", () => {
    const monthEnd: CalendarRule = { every: 'month', day: 'last', from: '18:00', to: '20:00' };
    expect(ruleAt(monthEnd, PARIS, utc(2026, 2, 10, 12)).nextBoundary).toBe(utc(2026, 2, 28, 17));
    expect(ruleAt(monthEnd, PARIS, utc(2028, 2, 10, 12)).nextBoundary).toBe(utc(2028, 2, 29, 17));
    expect(ruleAt(monthEnd, PARIS, utc(2026, 4, 1, 12)).nextBoundary).toBe(utc(2026, 4, 30, 16));
    const the31st: CalendarRule = { every: 'month', day: 31, from: '18:00', to: '20:00' };
    expect(ruleAt(the31st, PARIS, utc(2026, 4, 1, 12)).nextBoundary).toBe(utc(2026, 5, 31, 16));
  });

  it('rejects malformed times, naming them', () => {
    expect(minutesOf('24:00')).toBe(1440);
    for (const bad of ['9:00', '24:30', '12:60', 'noon']) expect(() => minutesOf(bad)).toThrow(bad);
  });
});
