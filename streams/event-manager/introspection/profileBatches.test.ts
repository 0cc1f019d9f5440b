// The call-handling query's profile lookups: keys asked in one event-loop turn
// share one lookup; a failed lookup fails every request of its batch (the API
// answers 503), and the next batch asks again.
import { describe, expect, it } from 'vitest';
import type { UserProfiles } from '../../../subscriber/availability/availabilityProfile.ts';
import { DEFAULT_PROFILES, profilesFromSettings } from '../../../subscriber/availability/settingsProfile.ts';
import { ProfileBatches } from './profileBatches.ts';

const busy = profilesFromSettings({ mode: 'busy' });

describe('ProfileBatches', () => {
  it('one lookup for the keys asked together; unknown keys get the default profiles', async () => {
    const asked: string[][] = [];
    const b = new ProfileBatches(async (keys) => {
      asked.push(keys);
      return new Map<string, UserProfiles>([['a', busy]]);
    });
    const got = await Promise.all([b.get('a'), b.get('b'), b.get('a')]);
    expect(got).toEqual([busy, DEFAULT_PROFILES, busy]);
    expect(asked).toEqual([['a', 'b']]);
    await b.get('c');
    expect(asked).toEqual([['a', 'b'], ['c']]);
  });

  it('a failed lookup rejects its batch only', async () => {
    let fail = true;
    const b = new ProfileBatches(async () => {
      if (fail) throw new Error('database down');
      return new Map();
    });
    await expect(Promise.all([b.get('a'), b.get('b')])).rejects.toThrow('database down');
    fail = false;
    await expect(b.get('a')).resolves.toEqual(DEFAULT_PROFILES);
  });
});
