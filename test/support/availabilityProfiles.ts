// Issue 16's example profile set: "professional profile: in meetings Mon–Fri
// 9–12 forward to my mobile, except for my boss; otherwise available" (Paris
// time), and a personal profile where everyone may see the user available.
import type { UserProfiles } from '../../subscriber/availability/availabilityProfile.ts';
import { AvailabilityStore } from '../../subscriber/availability/availabilityStore.ts';

export const BOSS = 'sip:boss@corp.example';
export const COLLEAGUE = 'sip:colleague@corp.example';

export const PROFESSIONAL: UserProfiles = {
  active: 'professional',
  profiles: [
    {
      name: 'personal',
      timeZone: 'Europe/Paris',
      defaultMode: 'free',
      modes: [{ name: 'free', state: { kind: 'available' } }],
      lists: { allowed: [], denied: [], consent: [], watched: [], others: 'allowed' },
    },
    {
      name: 'professional',
      timeZone: 'Europe/Paris',
      defaultMode: 'available',
      modes: [
        {
          name: 'meeting',
          state: { kind: 'transfer', to: { terminal: 'mobile' } },
          notification: 'silent',
          appliesTo: { except: [BOSS] },
          rules: [{ every: 'week', days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '12:00' }],
        },
        { name: 'available', state: { kind: 'available' } },
      ],
      lists: { allowed: [BOSS, COLLEAGUE], denied: [], consent: [], watched: [BOSS], others: 'consent' },
    },
  ],
};

type ModeState = UserProfiles['profiles'][number]['modes'][number]['state'];

/** A single 'work' profile with one mode in `state` (Lisbon time), `allowed` and `denied` lists, others allowed: the call-handling tests' callee. */
export const oneModeProfile = (state: ModeState, lists: { allowed?: string[]; denied?: string[] } = {}): UserProfiles => ({
  active: 'work',
  profiles: [
    {
      name: 'work',
      timeZone: 'Europe/Lisbon',
      defaultMode: 'default',
      modes: [{ name: 'default', state }],
      lists: { allowed: lists.allowed ?? [], denied: lists.denied ?? [], consent: [], watched: [], others: 'allowed' },
    },
  ],
});

/** Stores these subscribers' profiles in the availability tables of `schema` (made if missing), as the availability service would. */
export async function storeProfiles(databaseUrl: string, schema: string, bySubscriber: Record<string, UserProfiles>): Promise<void> {
  const profiles = new AvailabilityStore(databaseUrl, schema);
  try {
    await profiles.migrate();
    for (const [subscriber, p] of Object.entries(bySubscriber)) await profiles.setProfiles(subscriber, p);
  } finally {
    await profiles.close();
  }
}
