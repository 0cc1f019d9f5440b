// Connectability (the five states of the service-mediation patent, seed 004):
// whether a subscriber can be put through to, from presence (is a terminal
// reachable?) and the user's active availability mode (does the user want
// to be?), given as data.
import { isReachable, type SubscriberPresence } from './model.ts';

type Connectability = 'connectable' | 'not-connectable' | 'subject-to-authorization' | 'in-transfer' | 'unknown';

export interface AvailabilitySettings {
  readonly mode: 'available' | 'busy' | 'do-not-disturb' | 'away';
  /** Incoming calls are transferred to this number. */
  readonly forwardTo?: string;
  /** contacts-only: the state is given only to watchers the user authorised. */
  readonly screening?: 'none' | 'contacts-only';
}

interface Watcher {
  /** The user authorised this watcher (is in its contacts). */
  readonly authorized: boolean;
}

/** Without settings the user is taken as available, unscreened. */
export const DEFAULT_AVAILABILITY: AvailabilitySettings = { mode: 'available' };

/** Presence knows nothing yet: no network fact, no registration, no publication. */
function known(s: SubscriberPresence): boolean {
  return s.network.state !== 'unknown' || s.registration.contacts.length > 0 || s.publications.length > 0;
}

/**
 * In order: unknown (nothing known) → subject-to-authorization (screened and the
 * watcher is not authorised, or not named) → in-transfer (a transfer number is
 * set: calls go there whatever the terminal's state) → connectable (reachable and
 * available) → not-connectable (not reachable, or busy / do-not-disturb / away).
 */
export function connectability(s: SubscriberPresence | undefined, settings: AvailabilitySettings = DEFAULT_AVAILABILITY, watcher?: Watcher): Connectability {
  if (!s || !known(s)) return 'unknown';
  if (settings.screening === 'contacts-only' && !watcher?.authorized) return 'subject-to-authorization';
  if (settings.forwardTo) return 'in-transfer';
  return isReachable(s) && settings.mode === 'available' ? 'connectable' : 'not-connectable';
}
