// Adds up the summaries of taps that ran side by side (`presence replay
// --workers`): counts add, per-reason tables add key by key, and the run took
// as long as the slowest.
import type { TapSummary } from './tapPipeline.ts';

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

export const emptyTapSummary = (): TapSummary => ({
  frames: 0,
  signals: 0,
  byMessage: {},
  failures: {},
  skipped: {},
  events: 0,
  deadLetters: 0,
  deadLettersByReason: {},
  notSubscriber: 0,
  noIdentity: 0,
  learned: 0,
  seconds: 0,
});

export function mergeTapSummaries(parts: TapSummary[]): TapSummary {
  const out = emptyTapSummary();
  for (const p of parts) {
    out.frames += p.frames;
    out.signals += p.signals;
    out.events += p.events;
    out.deadLetters += p.deadLetters;
    out.notSubscriber += p.notSubscriber;
    out.noIdentity += p.noIdentity;
    out.learned += p.learned;
    out.seconds = Math.max(out.seconds, p.seconds);
    addCounts(out.byMessage, p.byMessage);
    addCounts(out.failures, p.failures);
    addCounts(out.skipped, p.skipped);
    addCounts(out.deadLettersByReason, p.deadLettersByReason);
  }
  return out;
}

/** Files in `workers` groups of about equal bytes (largest first, each to the lightest group). */
export function splitBySize<T extends { size: number }>(items: T[], workers: number): T[][] {
  const groups = Array.from({ length: Math.max(1, Math.min(workers, items.length)) }, () => ({ bytes: 0, items: [] as T[] }));
  for (const item of [...items].sort((a, b) => b.size - a.size)) {
    const lightest = groups.reduce((a, b) => (b.bytes < a.bytes ? b : a));
    lightest.items.push(item);
    lightest.bytes += item.size;
  }
  return groups.map((g) => g.items);
}
