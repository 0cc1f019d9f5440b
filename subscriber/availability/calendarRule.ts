// Calendar entries of availability rules (seed 004: "periods in which the
// availability mode is active"), in the user's local time: weekly (days of the
// week), monthly (a day of the month, or its last day) and yearly (a date), each
// with a local from–to time. A period whose end is not after its start runs past
// midnight (22:00–06:00). Evaluated as intervals of instants, so DST changes move
// them with the wall clock; a time the spring-forward change skips is taken just
// after it (zonedTime.instantOf).
import { instantOf, wallClock } from './zonedTime.ts';

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

interface LocalPeriod {
  /** 'HH:MM', local time */
  readonly from: string;
  /** 'HH:MM' (24:00 allowed), local time; not after `from`: ends the next day */
  readonly to: string;
}

export type CalendarRule =
  | (LocalPeriod & { readonly every: 'week'; readonly days: readonly Weekday[] })
  /** day 1–31 (skipped in months without it, as cron does) or 'last' (the month's last day) */
  | (LocalPeriod & { readonly every: 'month'; readonly day: number | 'last' })
  /** month 1–12, day 1–31: Feb 29 occurs only in leap years */
  | (LocalPeriod & { readonly every: 'year'; readonly month: number; readonly day: number });

/** How far ahead the next boundary is searched: a leap-year cycle and a margin. */
const HORIZON_DAYS = 1470;
const DAY_MS = 86_400_000;

export function minutesOf(hhmm: string): number {
  const m = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(hhmm);
  if (!m || (m[1] === '24' && m[2] !== '00')) throw new Error(`time must be HH:MM (00:00–24:00), not ${hhmm}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function startsOn(rule: CalendarRule, year: number, month: number, day: number, weekday: number): boolean {
  switch (rule.every) {
    case 'week':
      return rule.days.includes(WEEKDAYS[weekday]!);
    case 'month':
      return rule.day === 'last' ? day === daysInMonth(year, month) : day === rule.day;
    case 'year':
      return month === rule.month && day === rule.day;
  }
}

interface Period {
  readonly start: number;
  readonly end: number;
}

/** The rule's periods starting on local dates from `fromDay` (UTC-midnight ms of the local date) on, in order. */
function* periods(rule: CalendarRule, zone: string, fromDay: number, days: number): Generator<Period> {
  const from = minutesOf(rule.from);
  let to = minutesOf(rule.to);
  if (to <= from) to += 1440;
  for (let i = 0; i < days; i++) {
    const d = new Date(fromDay + i * DAY_MS);
    const [y, m, day, wd] = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCDay()];
    if (!startsOn(rule, y, m, day, wd)) continue;
    const start = instantOf(y, m, day, from, zone);
    const end = to > 1440 ? instantOf(y, m, day + 1, to - 1440, zone) : instantOf(y, m, day, to, zone);
    // 02:30–03:00 on spring-forward day starts (shifted) at 03:30, after its end: it does not happen.
    if (end > start) yield { start, end };
  }
}

function localDayOf(ms: number, zone: string): number {
  const w = wallClock(ms, zone);
  return Date.UTC(w.year, w.month - 1, w.day);
}

export interface RuleAt {
  readonly active: boolean;
  /** The next instant after `at` where the rule starts or ends (none within the horizon: undefined). */
  readonly nextBoundary: number | undefined;
}

/** Whether the rule is active at `at` (start inclusive, end exclusive) and when that can next change. */
export function ruleAt(rule: CalendarRule, zone: string, at: number): RuleAt {
  // A period that started yesterday may still run (past midnight).
  const fromDay = localDayOf(at, zone) - DAY_MS;
  let active = false;
  let nextBoundary: number | undefined;
  for (const p of periods(rule, zone, fromDay, HORIZON_DAYS)) {
    if (p.start <= at && at < p.end) active = true;
    for (const b of [p.start, p.end]) if (b > at && (nextBoundary === undefined || b < nextBoundary)) nextBoundary = b;
    if (nextBoundary !== undefined && p.start > nextBoundary) break;
  }
  return { active, nextBoundary };
}
