// What `presence profiles show` evaluates: the instant asked for, and the mode a watcher gets.
import { describe, expect, it } from 'vitest';
import { evaluation, parseInstant } from './profiles.ts';
import { BOSS, COLLEAGUE, PROFESSIONAL } from '../../test/support/availabilityProfiles.ts';

describe('presence profiles show', () => {
  it('takes --at only as an unambiguous instant (Z or an offset)', () => {
    expect(parseInstant('2026-07-14T10:00:00+02:00')).toBe(Date.UTC(2026, 6, 14, 8));
    expect(parseInstant('2026-07-14T08:00Z')).toBe(Date.UTC(2026, 6, 14, 8));
    expect(parseInstant(undefined, 42)).toBe(42);
    expect(() => parseInstant('2026-07-14T10:00')).toThrow('--at');
    expect(() => parseInstant('someday+02:00')).toThrow('not a date');
  });

  it('evaluates the active profile for the watcher asked about, with the next change', () => {
    const at = Date.UTC(2026, 6, 14, 8);
    expect(evaluation(PROFESSIONAL, at, COLLEAGUE)).toMatchObject({ profile: 'professional', mode: 'meeting', nextChangeAt: '2026-07-14T10:00:00.000Z' });
    expect(evaluation(PROFESSIONAL, at, BOSS)).toMatchObject({ mode: 'available', lists: 'allowed' });
    expect(evaluation(PROFESSIONAL, at, undefined)).toMatchObject({ requester: '(anonymous)', lists: 'consent' });
  });
});
