// The partition's window of recent event ids: repeats are dropped within its
// count and time horizon, forgotten past them, and an aborted batch's ids are not kept.
import { describe, expect, it } from 'vitest';
import { DuplicateWindow } from './duplicateWindow.ts';
import { apply } from './derive.ts';
import { pidfBody, sipRequest, sipResponse } from '../../../test/support/signalingEvents.ts';

const T = Date.UTC(2026, 0, 1);
const MIN = 60_000;

describe('duplicate window', () => {
  it('drops a repeat of a committed id, and a repeat within the same batch', () => {
    const w = new DuplicateWindow({ ids: 100, horizonMs: 10 * MIN });
    expect(w.seen('e1', T)).toBe(false);
    expect(w.seen('e1', T)).toBe(true);
    w.commit();
    expect(w.seen('e1', T + 1)).toBe(true);
    expect(w.seen('e2', T + 1)).toBe(false);
  });

  it('forgets ids past its time horizon (behind the newest event time) and past its count', () => {
    const w = new DuplicateWindow({ ids: 3, horizonMs: 10 * MIN });
    w.seen('old', T);
    w.commit();
    w.seen('new', T + 10 * MIN); // exactly at the horizon: still remembered
    w.commit();
    expect(w.seen('old', T)).toBe(true);
    w.rollback();
    w.seen('newer', T + 10 * MIN + 1);
    w.commit();
    expect(w.seen('old', T)).toBe(false); // past the horizon: a repeat is taken as new
    w.rollback();
    for (const id of ['a', 'b', 'c']) w.seen(id, T + 11 * MIN);
    w.commit();
    expect(w.size).toBe(3);
    expect(w.seen('new', T + 11 * MIN)).toBe(false); // pushed out by count
    expect(w.seen('c', T + 11 * MIN)).toBe(true);
  });

  it('an aborted batch leaves no ids behind: its records, re-read, are not duplicates', () => {
    const w = new DuplicateWindow();
    expect(w.seen('e1', T)).toBe(false);
    w.rollback();
    expect(w.seen('e1', T)).toBe(false);
  });

  it('drops the repeat apply() alone would take again (a PUBLISH request copied after its 200)', () => {
    const w = new DuplicateWindow();
    const req = sipRequest('msisdn:+1', 'PUBLISH', T, {
      callId: 'p',
      event: 'presence',
      contentType: 'application/pidf+xml',
      body: Buffer.from(pidfBody('hi')),
    });
    const res = sipResponse('msisdn:+1', 'PUBLISH', 200, T + 1, { callId: 'p', etag: 'e', expires: 60 });
    let s = undefined;
    for (const e of [req, res, req]) {
      if (w.seen(e.eventId, e.time)) continue;
      w.commit();
      s = apply(s, e).state;
    }
    expect(s!.pendingPublishes).toEqual([]);
    expect(s!.publications).toHaveLength(1);
  });
});
