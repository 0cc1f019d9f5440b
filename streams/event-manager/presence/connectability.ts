// Connectability (the five states of the service-mediation patent, seed 004):
// whether a subscriber can be put through to, for a given requester (watcher
// or caller), from presence (is a terminal reachable?), the active profile's
// mode for that requester (does the user want to be, and for whom?) and the
// profile's contact lists (may the requester know at all?).
import { isKnown, isReachable, type SubscriberPresence } from './model.ts';
import { activeProfile, listDecision, modeAt, type AvailabilityMode, type UserProfiles } from '../../../subscriber/availability/availabilityProfile.ts';
import { profilesFromSettings, type AvailabilitySettings } from '../../../subscriber/availability/settingsProfile.ts';

export type Connectability = 'connectable' | 'not-connectable' | 'subject-to-authorization' | 'in-transfer' | 'unknown';

interface Watcher {
  /** The user authorised this watcher (is in its contacts). */
  readonly authorized: boolean;
}

export interface Requester {
  /** The watcher's or caller's URI; absent: anonymous. */
  readonly identity?: string;
  /** The user already consented (a watcher rule allows this watcher). */
  readonly consented?: boolean;
}

export interface RequesterConnectability {
  readonly connectability: Connectability;
  /** The mode in force for this requester (absent when presence or the lists decide). */
  readonly mode?: AvailabilityMode;
}

/**
 * In order: unknown (nothing known about presence; the requester is on the denied
 * list; the mode is unknown or hidden) → subject-to-authorization (the lists want
 * the user's consent and it was not given) → in-transfer (the mode transfers calls,
 * whatever the terminal's state) → connectable (reachable and the mode available)
 * → not-connectable.
 */
export function connectabilityFor(s: SubscriberPresence | undefined, profiles: UserProfiles, at: number, requester: Requester = {}): RequesterConnectability {
  if (!s || !isKnown(s)) return { connectability: 'unknown' };
  const profile = activeProfile(profiles);
  const listed = listDecision(profile.lists, requester.identity);
  if (listed === 'denied') return { connectability: 'unknown' };
  const { mode } = modeAt(profile, at, requester.identity);
  if (mode.state.kind === 'unknown' || mode.state.kind === 'hidden') return { connectability: 'unknown', mode };
  if (listed === 'consent' && !requester.consented) return { connectability: 'subject-to-authorization', mode };
  if (mode.state.kind === 'transfer') return { connectability: 'in-transfer', mode };
  return { connectability: mode.state.kind === 'available' && isReachable(s) ? 'connectable' : 'not-connectable', mode };
}

/** From the earlier single-mode settings (no profiles): the same states as before. */
export function connectability(s: SubscriberPresence | undefined, settings: AvailabilitySettings = { mode: 'available' }, watcher?: Watcher): Connectability {
  return connectabilityFor(s, profilesFromSettings(settings), 0, { consented: watcher?.authorized ?? false }).connectability;
}
