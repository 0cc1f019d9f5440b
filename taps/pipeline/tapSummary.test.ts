import { describe, expect, it } from 'vitest';
import type { TapSummary } from './tapPipeline.ts';
import { emptyTapSummary, mergeTapSummaries, splitBySize } from './tapSummary.ts';

const summary = (over: Partial<TapSummary>): TapSummary => ({ ...emptyTapSummary(), ...over });

describe('taps side by side', () => {
  it('adds up their summaries, table by table, and takes the slowest time', () => {
    const merged = mergeTapSummaries([
      summary({ frames: 10, events: 7, byMessage: { 'map updateLocation': 3 }, deadLettersByReason: { 'sccp.truncated': 1 }, seconds: 2 }),
      summary({ frames: 5, events: 4, byMessage: { 'map updateLocation': 1, 'sip REGISTER': 2 }, notSubscriber: 3, seconds: 3.5 }),
    ]);
    expect(merged).toMatchObject({ frames: 15, events: 11, notSubscriber: 3, seconds: 3.5 });
    expect(merged.byMessage).toEqual({ 'map updateLocation': 4, 'sip REGISTER': 2 });
    expect(merged.deadLettersByReason).toEqual({ 'sccp.truncated': 1 });
  });

  it('splits files into groups of about equal bytes, never more groups than files', () => {
    const files = [10, 70, 20, 30, 40].map((size) => ({ size, name: `f${size}` }));
    const groups = splitBySize(files, 2);
    expect(groups.map((g) => g.reduce((n, f) => n + f.size, 0)).sort()).toEqual([80, 90]);
    expect(splitBySize(files.slice(0, 1), 4)).toHaveLength(1);
  });
});
