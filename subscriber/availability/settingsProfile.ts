// The earlier availability settings (one mode, a transfer number, screening)
// as a one-profile, one-mode profile set, so rows of presence.availability keep
// meaning exactly what they did while users move to profiles.
import type { UserProfiles } from './availabilityProfile.ts';

/** The earlier single-mode settings (presence.availability rows, `presence availability set`). */
export interface AvailabilitySettings {
  readonly mode: 'available' | 'busy' | 'do-not-disturb' | 'away';
  /** Incoming calls are transferred to this number. */
  readonly forwardTo?: string;
  /** contacts-only: the state is given only to watchers the user authorised. */
  readonly screening?: 'none' | 'contacts-only';
}

export function profilesFromSettings(s: AvailabilitySettings): UserProfiles {
  return {
    active: 'default',
    profiles: [
      {
        name: 'default',
        timeZone: 'UTC',
        defaultMode: s.mode,
        modes: [
          {
            name: s.mode,
            state: s.forwardTo ? { kind: 'transfer', to: { number: s.forwardTo } } : s.mode === 'available' ? { kind: 'available' } : { kind: 'not-available' },
          },
        ],
        // contacts-only: every watcher needs the user's consent (given through a watcher rule).
        lists: { allowed: [], denied: [], consent: [], watched: [], others: s.screening === 'contacts-only' ? 'consent' : 'allowed' },
      },
    ],
  };
}

/** No settings, no profiles: available, unscreened. */
export const DEFAULT_PROFILES: UserProfiles = profilesFromSettings({ mode: 'available' });
