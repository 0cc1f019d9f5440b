// apply(): duplicates change nothing, bookkeeping is not a change, versions
// count changes, and a replay in another order ends in the same facts.
import { describe, expect, it } from 'vitest';
import { apply } from './derive.ts';
import { mapEvent, pidfBody, sipRequest, sipResponse } from '../../../test/support/signalingEvents.ts';

const SUB = 'imsi:001010000000001';
const T = Date.UTC(2026, 0, 1);

describe('apply', () => {
  it('starts from an empty state for the event subscriber', () => {
    const { state, changed } = apply(undefined, mapEvent(SUB, 'purgeMS', 'invoke', T, { vlrNumber: '1' }));
    expect(changed).toBe(true);
    expect(state).toMatchObject({ subscriber: SUB, version: 1, updatedAt: T, eventsSeen: 1, network: { state: 'purged' } });
  });

  it('the same eventId twice: the second changes nothing at all', () => {
    const e = mapEvent(SUB, 'purgeMS', 'invoke', T, { vlrNumber: '1' }, { eventId: 'replay:x:1:0:subject' });
    const first = apply(undefined, e).state;
    const again = apply(first, e);
    expect(again.changed).toBe(false);
    expect(again.state).toBe(first);
  });

  it('an older repeat is not for apply() to catch: the partition duplicate window drops it (duplicateWindow.test.ts)', () => {
    const req = sipRequest(SUB, 'PUBLISH', T, { callId: 'p', event: 'presence', contentType: 'application/pidf+xml', body: Buffer.from(pidfBody('hi')) });
    const s1 = apply(apply(undefined, req).state, sipResponse(SUB, 'PUBLISH', 200, T + 1, { callId: 'p', etag: 'e', expires: 60 })).state;
    // The state keeps no list of ids (it was 64 per subscriber): the request, seen again, is a pending PUBLISH again.
    expect(apply(s1, req).state.pendingPublishes).toHaveLength(1);
  });

  it('an event with no fact (a MAP result we do not use, an older duplicate fact) is not a change and keeps the version', () => {
    const s1 = apply(undefined, mapEvent(SUB, 'mo-ForwardSM', 'invoke', T + 10)).state;
    const r = apply(s1, mapEvent(SUB, 'mo-ForwardSM', 'invoke', T + 5));
    // seenAt does not move back either, so nothing changed but the bookkeeping.
    expect(r.changed).toBe(false);
    expect(r.state.version).toBe(s1.version);
    expect(r.state.eventsSeen).toBe(2);
  });

  it('versions count changes', () => {
    let s = apply(undefined, mapEvent(SUB, 'updateLocation', 'invoke', T, { vlrNumber: '441122', opc: 1 })).state;
    s = apply(s, mapEvent(SUB, 'updateLocation', 'result', T + 1, { dpc: 1 })).state;
    expect(s.version).toBe(2);
    expect(s.updatedAt).toBe(T + 1);
  });

  it('network facts in reverse order end where forward order does, for purge after attach', () => {
    const events = [
      mapEvent(SUB, 'updateLocation', 'invoke', T, { vlrNumber: '441122', opc: 1 }),
      mapEvent(SUB, 'updateLocation', 'result', T + 1, { dpc: 1 }),
      mapEvent(SUB, 'purgeMS', 'invoke', T + 10_000, { vlrNumber: '441122' }),
    ];
    const forward = events.reduce((s, e) => apply(s, e).state, undefined as ReturnType<typeof apply>['state'] | undefined)!;
    const backward = [...events].reverse().reduce((s, e) => apply(s, e).state, undefined as ReturnType<typeof apply>['state'] | undefined)!;
    expect(backward.network.state).toBe('purged');
    expect(backward.network.state).toBe(forward.network.state);
    expect(backward.network.since).toBe(forward.network.since);
  });
});
