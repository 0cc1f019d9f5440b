// Local wall-clock ↔ instant in IANA zones, including the hours DST skips and repeats.
import { describe, expect, it } from 'vitest';
import { instantOf, isTimeZone, wallClock } from './zonedTime.ts';

const utc = (y: number, mo: number, d: number, h: number, mi = 0): number => Date.UTC(y, mo - 1, d, h, mi);

describe('zoned time', () => {
  it('reads the wall clock in a zone (Paris in winter is UTC+1, in summer UTC+2)', () => {
    expect(wallClock(utc(2026, 1, 15, 9), 'Europe/Paris')).toEqual({ year: 2026, month: 1, day: 15, hour: 10, minute: 0, weekday: 4 });
    expect(wallClock(utc(2026, 7, 1, 22, 30), 'Europe/Paris')).toEqual({ year: 2026, month: 7, day: 2, hour: 0, minute: 30, weekday: 4 });
    expect(wallClock(utc(2026, 7, 1, 3), 'America/New_York')).toMatchObject({ day: 30, hour: 23, weekday: 2 });
  });

  it('names the instant of a local time, 24:00 being the next midnight', () => {
    expect(instantOf(2026, 7, 1, 10 * 60, 'Europe/Paris')).toBe(utc(2026, 7, 1, 8));
    expect(instantOf(2026, 1, 15, 10 * 60, 'Europe/Paris')).toBe(utc(2026, 1, 15, 9));
    expect(instantOf(2026, 1, 31, 24 * 60, 'Europe/Paris')).toBe(utc(2026, 1, 31, 23));
    expect(instantOf(2026, 7, 1, 9 * 60, 'Asia/Kolkata')).toBe(utc(2026, 7, 1, 3, 30));
  });

  it('spring-forward: a skipped local time is taken after the change (Paris 29 Mar 2026, New York 8 Mar 2026)', () => {
    // Paris: 02:00 CET → 03:00 CEST at 01:00 UTC; 02:30 does not exist → 03:30 CEST.
    expect(instantOf(2026, 3, 29, 150, 'Europe/Paris')).toBe(utc(2026, 3, 29, 1, 30));
    expect(instantOf(2026, 3, 29, 180, 'Europe/Paris')).toBe(utc(2026, 3, 29, 1));
    expect(instantOf(2026, 3, 29, 90, 'Europe/Paris')).toBe(utc(2026, 3, 29, 0, 30));
    // New York: 02:00 EST → 03:00 EDT at 07:00 UTC.
    expect(instantOf(2026, 3, 8, 150, 'America/New_York')).toBe(utc(2026, 3, 8, 7, 30));
    expect(instantOf(2026, 3, 8, 180, 'America/New_York')).toBe(utc(2026, 3, 8, 7));
  });

  it('fall-back: a repeated local time is its first occurrence (Paris 25 Oct 2026, New York 1 Nov 2026)', () => {
    // Paris: 02:30 occurs at 00:30 UTC (CEST) and 01:30 UTC (CET).
    expect(instantOf(2026, 10, 25, 150, 'Europe/Paris')).toBe(utc(2026, 10, 25, 0, 30));
    expect(instantOf(2026, 10, 25, 180, 'Europe/Paris')).toBe(utc(2026, 10, 25, 2));
    // New York: 01:30 occurs at 05:30 UTC (EDT) and 06:30 UTC (EST).
    expect(instantOf(2026, 11, 1, 90, 'America/New_York')).toBe(utc(2026, 11, 1, 5, 30));
    expect(instantOf(2026, 11, 1, 120, 'America/New_York')).toBe(utc(2026, 11, 1, 7));
  });

  it('round-trips every half hour across both 2026 changes in both zones', () => {
    for (const [zone, from] of [
      ['Europe/Paris', utc(2026, 3, 28, 0)],
      ['Europe/Paris', utc(2026, 10, 24, 0)],
      ['America/New_York', utc(2026, 3, 7, 0)],
      ['America/New_York', utc(2026, 10, 31, 0)],
    ] as const) {
      for (let t = from; t < from + 3 * 86_400_000; t += 1_800_000) {
        const w = wallClock(t, zone);
        const back = instantOf(w.year, w.month, w.day, w.hour * 60 + w.minute, zone);
        // Only the second occurrence of a repeated hour maps back to the first, an hour earlier.
        expect([t, t - 3_600_000]).toContain(back);
      }
    }
  });

  it('knows which zone names exist', () => {
    expect(isTimeZone('Europe/Paris')).toBe(true);
    expect(isTimeZone('Mars/Olympus_Mons')).toBe(false);
  });
});
