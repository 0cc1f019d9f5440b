// Wall-clock time in an IANA time zone, both ways, with Intl.DateTimeFormat
// only (no time-zone dependency): availability rules are written in the
// user's local time ("Mon–Fri 09:00–12:00 Europe/Paris") and must fire at the
// right instant whatever the machine's zone and across daylight-saving changes.

export interface WallClock {
  readonly year: number;
  /** 1–12 */
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  /** 0 = Sunday … 6 = Saturday */
  readonly weekday: number;
}

const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Whether Intl knows this zone name (a bad one throws RangeError when formatting). */
export function isTimeZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** The wall clock as if it were UTC, in ms (seconds kept, milliseconds dropped). */
function wallAsUtc(ms: number, zone: string): number {
  const p: Record<string, number> = {};
  for (const part of formatter(zone).formatToParts(new Date(ms))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
}

/** Offset of the zone from UTC at this instant, in ms (Paris in summer: +7,200,000). */
function offsetAt(ms: number, zone: string): number {
  const whole = Math.floor(ms / 1000) * 1000;
  return wallAsUtc(whole, zone) - whole;
}

export function wallClock(ms: number, zone: string): WallClock {
  const d = new Date(ms + offsetAt(ms, zone));
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    weekday: d.getUTCDay(),
  };
}

/**
 * The instant a local date and time names in the zone. A time that does not exist
 * (skipped by a spring-forward change) is taken as the same duration after the
 * change, 02:30 → 03:30; one that occurs twice (fall-back) as its first occurrence —
 * the "compatible" choice of Temporal and of most calendars. `minutes` may reach
 * 1440 (24:00, the next day's midnight).
 */
export function instantOf(year: number, month: number, day: number, minutes: number, zone: string): number {
  const local = Date.UTC(year, month - 1, day) + minutes * 60_000;
  // Offsets a day either side: a zone changes its offset at most once in that span.
  const before = offsetAt(local - DAY_MS, zone);
  const after = offsetAt(local + DAY_MS, zone);
  const candidates = [local - before, local - after].filter((t) => wallAsUtc(t, zone) === local);
  if (candidates.length) return Math.min(...candidates);
  return local - before;
}
