// A user's availability profiles (seed 004, service mediation): several
// profiles (personal, professional, …), one active; each with availability
// modes (what the user wants callers and watchers to see, for which contacts)
// switched by calendar rules in the user's time zone, and contact lists saying
// who may know the user's connectability at all. Plain data, evaluated here as
// pure functions of (profiles, instant, requester).
import type { CalendarRule } from './calendarRule.ts';
import { ruleAt } from './calendarRule.ts';
import { watcherIdentity } from '../identity/watcherIdentity.ts';

export const COMMUNICATION_MODES = ['fixed', 'mobile', 'voip', 'sms', 'mms', 'email'] as const;
export type CommunicationMode = (typeof COMMUNICATION_MODES)[number];

export const NOTIFICATION_MODES = ['ring', 'vibrate', 'silent', 'visual'] as const;
export type NotificationMode = (typeof NOTIFICATION_MODES)[number];

export type ModeState =
  | { readonly kind: 'available' }
  | { readonly kind: 'not-available' }
  /** Calls go to a number, or to the user's terminal of that communication mode. */
  | { readonly kind: 'transfer'; readonly to: { readonly number: string } | { readonly terminal: CommunicationMode } }
  | { readonly kind: 'unknown' }
  /** The user hides: reported as unknown. */
  | { readonly kind: 'hidden' };

export interface AvailabilityMode {
  readonly name: string;
  readonly state: ModeState;
  readonly notification?: NotificationMode;
  /** Contacts the mode applies to (others skip it): only these, or all but these. */
  readonly appliesTo?: { readonly only: readonly string[] } | { readonly except: readonly string[] };
  /** Periods when the mode is active. */
  readonly rules?: readonly CalendarRule[];
}

/** A profile-level rule: this mode during these periods (seed 004's alternative form). */
export interface ProfileRule extends Readonly<{ mode: string }> {
  readonly calendar: CalendarRule;
}

export type ListDecision = 'allowed' | 'denied' | 'consent';

export interface ContactLists {
  /** May know my connectability. */
  readonly allowed: readonly string[];
  /** May not (they get unknown). */
  readonly denied: readonly string[];
  /** Need my prior consent (subject to authorization until given). */
  readonly consent: readonly string[];
  /** Whose connectability I want to receive. */
  readonly watched: readonly string[];
  /** Contacts in none of the three lists above. */
  readonly others: ListDecision;
}

export interface AvailabilityProfile {
  readonly name: string;
  /** IANA zone the rules' times are in. */
  readonly timeZone: string;
  readonly modes: readonly AvailabilityMode[];
  /** The mode when no rule makes another one active ("otherwise available"). */
  readonly defaultMode: string;
  /** Set by the user: this mode whatever the rules say, until cleared. */
  readonly manualMode?: string;
  readonly rules?: readonly ProfileRule[];
  readonly lists: ContactLists;
}

export interface UserProfiles {
  readonly active: string;
  readonly profiles: readonly AvailabilityProfile[];
}

function listed(list: readonly string[], requester: string | undefined): boolean {
  if (requester === undefined) return false;
  const who = watcherIdentity(requester);
  return list.some((c) => watcherIdentity(c) === who);
}

export function activeProfile(p: UserProfiles): AvailabilityProfile {
  const found = p.profiles.find((x) => x.name === p.active);
  if (!found) throw new Error(`active profile ${p.active} is not among the profiles`);
  return found;
}

function modeNamed(profile: AvailabilityProfile, name: string): AvailabilityMode {
  const m = profile.modes.find((x) => x.name === name);
  if (!m) throw new Error(`profile ${profile.name}: mode ${name} is not defined`);
  return m;
}

function appliesTo(mode: AvailabilityMode, requester: string | undefined): boolean {
  const a = mode.appliesTo;
  if (!a) return true;
  return 'only' in a ? listed(a.only, requester) : !listed(a.except, requester);
}

export interface ModeAt {
  readonly mode: AvailabilityMode;
  /** The next instant the active mode can change (a rule boundary); undefined: none ahead. */
  readonly nextChangeAt: number | undefined;
}

/**
 * The mode in force at `at` for this requester: the user's manual mode, else the
 * first rule-active mode that applies to the requester — profile rules in order,
 * then modes' own rules in the modes' order — else the default mode. A mode
 * excluding the requester ("except my boss") gives way to the next candidate, so
 * the boss sees what the profile would show without that mode.
 */
export function modeAt(profile: AvailabilityProfile, at: number, requester?: string): ModeAt {
  const { candidates, nextChangeAt } = rulesAt(profile, at);
  if (profile.manualMode !== undefined) {
    const manual = modeNamed(profile, profile.manualMode);
    if (appliesTo(manual, requester)) return { mode: manual, nextChangeAt };
  }
  for (const name of candidates) {
    const m = modeNamed(profile, name);
    if (appliesTo(m, requester)) return { mode: m, nextChangeAt };
  }
  return { mode: modeNamed(profile, profile.defaultMode), nextChangeAt };
}

interface RulesAt {
  /** Modes whose rules are active, in priority order. */
  readonly candidates: readonly string[];
  readonly nextChangeAt: number | undefined;
}

// The rules' answer does not depend on the requester: computed once per profile and
// instant, not once per watcher (~0.1 ms each). Profiles are immutable values.
const rulesCache = new WeakMap<AvailabilityProfile, Map<number, RulesAt>>();
const RULES_CACHE_INSTANTS = 4;

function rulesAt(profile: AvailabilityProfile, at: number): RulesAt {
  let byInstant = rulesCache.get(profile);
  const hit = byInstant?.get(at);
  if (hit) return hit;
  let nextChangeAt: number | undefined;
  const candidates: string[] = [];
  const consider = (modeName: string, rule: CalendarRule): void => {
    const r = ruleAt(rule, profile.timeZone, at);
    if (r.active) candidates.push(modeName);
    if (r.nextBoundary !== undefined && (nextChangeAt === undefined || r.nextBoundary < nextChangeAt)) nextChangeAt = r.nextBoundary;
  };
  for (const r of profile.rules ?? []) consider(r.mode, r.calendar);
  for (const m of profile.modes) for (const r of m.rules ?? []) consider(m.name, r);
  const out = { candidates, nextChangeAt };
  if (!byInstant) rulesCache.set(profile, (byInstant = new Map()));
  if (byInstant.size >= RULES_CACHE_INSTANTS) byInstant.delete(byInstant.keys().next().value!);
  byInstant.set(at, out);
  return out;
}

/** What the contact lists say about this requester (none named: the `others` decision). */
export function listDecision(lists: ContactLists, requester: string | undefined): ListDecision {
  if (listed(lists.denied, requester)) return 'denied';
  if (listed(lists.consent, requester)) return 'consent';
  if (listed(lists.allowed, requester)) return 'allowed';
  return lists.others;
}

/** The earliest instant any rule of the active profile can change a requester's mode. */
export function nextChangeAt(p: UserProfiles, at: number): number | undefined {
  return modeAt(activeProfile(p), at).nextChangeAt;
}
