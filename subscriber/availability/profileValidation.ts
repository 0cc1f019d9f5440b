// Validation of a user's profiles as given (JSON from the CLI, the database):
// checked field by field, refused with the first bad field named
// ("profiles[1].modes[0].rules[0].from: …"), before anything is stored or
// evaluated. No I/O here.
import { minutesOf, WEEKDAYS, type CalendarRule } from './calendarRule.ts';
import {
  COMMUNICATION_MODES,
  NOTIFICATION_MODES,
  type AvailabilityMode,
  type AvailabilityProfile,
  type ContactLists,
  type ListDecision,
  type ModeState,
  type ProfileRule,
  type UserProfiles,
} from './availabilityProfile.ts';
import { isTimeZone } from './zonedTime.ts';

export class ProfileValidationError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'ProfileValidationError';
  }
}

const LIMITS = { profiles: 16, modes: 32, rules: 64, contacts: 1000, nameLength: 64, contactLength: 512 } as const;
const NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]*$/;
const NUMBER = /^\+?[0-9]{2,20}$/;
const LIST_DECISIONS: readonly ListDecision[] = ['allowed', 'denied', 'consent'];

type Obj = Record<string, unknown>;

function object(v: unknown, field: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ProfileValidationError(field, 'must be an object');
  return v as Obj;
}

function array(v: unknown, field: string, max: number): unknown[] {
  if (!Array.isArray(v)) throw new ProfileValidationError(field, 'must be an array');
  if (v.length > max) throw new ProfileValidationError(field, `at most ${max} entries`);
  return v;
}

function oneOf<T extends string>(v: unknown, field: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !allowed.includes(v as T)) throw new ProfileValidationError(field, `must be one of ${allowed.join(', ')}`);
  return v as T;
}

function name(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.length > LIMITS.nameLength || !NAME.test(v))
    throw new ProfileValidationError(field, `must be a name of letters, digits, space, . _ - (at most ${LIMITS.nameLength})`);
  return v;
}

function integer(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ProfileValidationError(field, `must be an integer from ${min} to ${max}`);
  return v;
}

function time(v: unknown, field: string): string {
  if (typeof v !== 'string') throw new ProfileValidationError(field, 'must be HH:MM');
  try {
    minutesOf(v);
  } catch (e) {
    throw new ProfileValidationError(field, (e as Error).message);
  }
  return v;
}

function contacts(v: unknown, field: string): string[] {
  return array(v ?? [], field, LIMITS.contacts).map((c, i) => {
    if (typeof c !== 'string' || c.trim() === '' || c.length > LIMITS.contactLength || !/^(sips?|tel|msisdn|imsi):/i.test(c.trim()))
      throw new ProfileValidationError(`${field}[${i}]`, 'must be a sip:, sips:, tel: URI or a subscriber key (msisdn:, imsi:)');
    return c;
  });
}

function calendar(v: unknown, field: string): CalendarRule {
  const o = object(v, field);
  const period = { from: time(o.from, `${field}.from`), to: time(o.to, `${field}.to`) };
  switch (oneOf(o.every, `${field}.every`, ['week', 'month', 'year'] as const)) {
    case 'week': {
      const days = array(o.days, `${field}.days`, 7).map((d, i) => oneOf(d, `${field}.days[${i}]`, WEEKDAYS));
      if (days.length === 0) throw new ProfileValidationError(`${field}.days`, 'must name at least one day');
      return { every: 'week', days, ...period };
    }
    case 'month':
      return { every: 'month', day: o.day === 'last' ? 'last' : integer(o.day, `${field}.day`, 1, 31), ...period };
    case 'year': {
      const month = integer(o.month, `${field}.month`, 1, 12);
      const longest = new Date(Date.UTC(2028, month, 0)).getUTCDate(); // 2028: a leap year, Feb 29 allowed
      return { every: 'year', month, day: integer(o.day, `${field}.day`, 1, longest), ...period };
    }
  }
}

function state(v: unknown, field: string): ModeState {
  const o = object(v, field);
  const kind = oneOf(o.kind, `${field}.kind`, ['available', 'not-available', 'transfer', 'unknown', 'hidden'] as const);
  if (kind !== 'transfer') return { kind };
  const to = object(o.to, `${field}.to`);
  if ('number' in to) {
    if (typeof to.number !== 'string' || !NUMBER.test(to.number))
      throw new ProfileValidationError(`${field}.to.number`, 'must be a telephone number (digits, optional leading +)');
    return { kind, to: { number: to.number } };
  }
  return { kind, to: { terminal: oneOf(to.terminal, `${field}.to.terminal`, COMMUNICATION_MODES) } };
}

function mode(v: unknown, field: string): AvailabilityMode {
  const o = object(v, field);
  const out: { -readonly [K in keyof AvailabilityMode]: AvailabilityMode[K] } = {
    name: name(o.name, `${field}.name`),
    state: state(o.state, `${field}.state`),
  };
  if (o.notification !== undefined) out.notification = oneOf(o.notification, `${field}.notification`, NOTIFICATION_MODES);
  if (o.appliesTo !== undefined) {
    const a = object(o.appliesTo, `${field}.appliesTo`);
    if ('only' in a === 'except' in a) throw new ProfileValidationError(`${field}.appliesTo`, 'must have either only or except');
    out.appliesTo = 'only' in a ? { only: contacts(a.only, `${field}.appliesTo.only`) } : { except: contacts(a.except, `${field}.appliesTo.except`) };
  }
  if (o.rules !== undefined) out.rules = array(o.rules, `${field}.rules`, LIMITS.rules).map((r, i) => calendar(r, `${field}.rules[${i}]`));
  return out;
}

function lists(v: unknown, field: string): ContactLists {
  const o = object(v ?? {}, field);
  return {
    allowed: contacts(o.allowed, `${field}.allowed`),
    denied: contacts(o.denied, `${field}.denied`),
    consent: contacts(o.consent, `${field}.consent`),
    watched: contacts(o.watched, `${field}.watched`),
    others: o.others === undefined ? 'allowed' : oneOf(o.others, `${field}.others`, LIST_DECISIONS),
  };
}

function modeRef(v: unknown, field: string, modes: readonly AvailabilityMode[]): string {
  return oneOf(
    v,
    field,
    modes.map((m) => m.name),
  );
}

function profile(v: unknown, field: string): AvailabilityProfile {
  const o = object(v, field);
  const profileName = name(o.name, `${field}.name`);
  if (typeof o.timeZone !== 'string' || !isTimeZone(o.timeZone))
    throw new ProfileValidationError(`${field}.timeZone`, 'must be an IANA time zone (e.g. Europe/Paris)');
  const modes = array(o.modes, `${field}.modes`, LIMITS.modes).map((m, i) => mode(m, `${field}.modes[${i}]`));
  if (modes.length === 0) throw new ProfileValidationError(`${field}.modes`, 'must define at least one mode');
  modes.forEach((m, i) => {
    if (modes.findIndex((x) => x.name === m.name) !== i) throw new ProfileValidationError(`${field}.modes[${i}].name`, `duplicates mode ${m.name}`);
  });
  const out: { -readonly [K in keyof AvailabilityProfile]: AvailabilityProfile[K] } = {
    name: profileName,
    timeZone: o.timeZone,
    modes,
    defaultMode: modeRef(o.defaultMode, `${field}.defaultMode`, modes),
    lists: lists(o.lists, `${field}.lists`),
  };
  if (o.manualMode !== undefined && o.manualMode !== null) out.manualMode = modeRef(o.manualMode, `${field}.manualMode`, modes);
  if (o.rules !== undefined)
    out.rules = array(o.rules, `${field}.rules`, LIMITS.rules).map((r, i): ProfileRule => {
      const ro = object(r, `${field}.rules[${i}]`);
      return { mode: modeRef(ro.mode, `${field}.rules[${i}].mode`, modes), calendar: calendar(ro.calendar, `${field}.rules[${i}].calendar`) };
    });
  return out;
}

/** A user's profiles from untrusted JSON, or a ProfileValidationError naming the first bad field. */
export function parseUserProfiles(raw: unknown): UserProfiles {
  const o = object(raw, '(body)');
  const profiles = array(o.profiles, 'profiles', LIMITS.profiles).map((p, i) => profile(p, `profiles[${i}]`));
  if (profiles.length === 0) throw new ProfileValidationError('profiles', 'must define at least one profile');
  profiles.forEach((p, i) => {
    if (profiles.findIndex((x) => x.name === p.name) !== i) throw new ProfileValidationError(`profiles[${i}].name`, `duplicates profile ${p.name}`);
  });
  return {
    active: oneOf(
      o.active,
      'active',
      profiles.map((p) => p.name),
    ),
    profiles,
  };
}
