// Timers fire from due times kept in the state: contact and publication
// expiry, forgotten transactions, stale network state, stuck calls.
import { describe, expect, it } from 'vitest';
import type { SignalingEvent } from '../../../schemas/generated/records.ts';
import { DEFAULT_CONFIG } from './config.ts';
import { apply } from './derive.ts';
import { callStateOf, type SubscriberPresence } from './model.ts';
import { fromRecord, toRecord } from './stateRecord.ts';
import { advance, nextDue, pendingTimers } from './timers.ts';
import { isupEvent, mapEvent, pidfBody, sipRequest, sipResponse } from '../../../test/support/signalingEvents.ts';

const T = Date.UTC(2026, 0, 1);
const SUB = 'msisdn:+15550001';

function fold(events: SignalingEvent[], s?: SubscriberPresence): SubscriberPresence {
  return events.reduce<SubscriberPresence | undefined>((st, e) => apply(st, e).state, s)!;
}

const registered = () => fold([sipResponse(SUB, 'REGISTER', 200, T, { callId: 'r', contacts: ['sip:a@1.2.3.4;expires=60', 'sip:b@1.2.3.5;expires=120'] })]);

describe('timers', () => {
  it('nextDue is the earliest due time; nothing pending → null', () => {
    expect(nextDue(registered())).toBe(T + 60_000);
    expect(nextDue(fold([mapEvent(SUB, 'mo-ForwardSM', 'invoke', T)]))).toBeNull();
  });

  it('contact expiry removes each contact at its own time; before it, nothing changes', () => {
    const s = registered();
    const early = advance(s, T + 59_999);
    expect(early.changed).toBe(false);
    expect(early.state).toBe(s);
    const one = advance(s, T + 60_000);
    expect(one.changed).toBe(true);
    expect(one.state.registration.contacts.map((c) => c.uri)).toEqual(['sip:b@1.2.3.5']);
    expect(one.state.version).toBe(s.version + 1);
    expect(advance(s, T + 10 * 60_000).state.registration.contacts).toEqual([]);
  });

  it('firing is deterministic: one big step equals several small ones', () => {
    const s = registered();
    const big = advance(s, T + 200_000).state;
    const small = advance(advance(s, T + 60_000).state, T + 200_000).state;
    expect(big.registration).toEqual(small.registration);
  });

  it('publication expiry removes the published state', () => {
    const s = fold([
      sipRequest(SUB, 'PUBLISH', T, { callId: 'p', event: 'presence', expires: 30, contentType: 'application/pidf+xml', body: Buffer.from(pidfBody('hi')) }),
      sipResponse(SUB, 'PUBLISH', 200, T + 1, { callId: 'p', etag: 'e', expires: 30 }),
    ]);
    expect(nextDue(s)).toBe(T + 30_001);
    expect(advance(s, T + 30_001).state.publications).toEqual([]);
  });

  it('a PUBLISH never answered is forgotten after timer F', () => {
    const s = fold([sipRequest(SUB, 'PUBLISH', T, { callId: 'p', event: 'presence', contentType: 'application/pidf+xml', body: Buffer.from(pidfBody('hi')) })]);
    expect(advance(s, T + DEFAULT_CONFIG.pendingPublishMs).state.pendingPublishes).toEqual([]);
  });

  it('an attach never answered returns to the state before it', () => {
    const s = fold([mapEvent(SUB, 'updateLocation', 'invoke', T, { vlrNumber: '441122', opc: 1 })]);
    expect(s.network.state).toBe('attaching');
    const r = advance(s, T + DEFAULT_CONFIG.pendingAttachMs);
    expect(r.state.network).toMatchObject({ state: 'unknown', pending: null, reason: 'attach-timeout' });
  });

  it('attached with no signaling for the configured time → unknown; signaling in between pushes it back', () => {
    const cfg = { ...DEFAULT_CONFIG, staleNetworkMs: 3600_000 };
    const s = fold([
      mapEvent(SUB, 'updateLocation', 'invoke', T, { vlrNumber: '441122', opc: 1 }),
      mapEvent(SUB, 'updateLocation', 'result', T + 1, { dpc: 1 }),
    ]);
    expect(nextDue(s, cfg)).toBe(T + 1 + 3600_000);
    const stale = advance(s, T + 1 + 3600_000, cfg).state;
    expect(stale.network).toMatchObject({ state: 'unknown', reason: 'stale', since: T + 1 + 3600_000, vlr: null });
    const busy = fold([mapEvent(SUB, 'sendRoutingInfoForSM', 'invoke', T + 1800_000)], s);
    expect(advance(busy, T + 1 + 3600_000, cfg).state.network.state).toBe('attached');
  });

  it('a call with no release after N hours → idle', () => {
    const s = fold([isupEvent(SUB, 'IAM', T, { role: 'calling' }), isupEvent(SUB, 'ANM', T + 10, { role: 'calling' })]);
    expect(pendingTimers(s).find((t) => t.kind === 'stuck-call')?.dueAt).toBe(T + 10 + DEFAULT_CONFIG.stuckCallMs);
    expect(callStateOf(advance(s, T + 10 + DEFAULT_CONFIG.stuckCallMs - 1).state)).toBe('in-call');
    expect(callStateOf(advance(s, T + 10 + DEFAULT_CONFIG.stuckCallMs).state)).toBe('idle');
  });

  it('a camelBusy report holds for the stuck-call time only', () => {
    const s = fold([mapEvent(SUB, 'anyTimeInterrogation', 'result', T, { subscriberState: 'camelBusy' })]);
    expect(callStateOf(advance(s, T + DEFAULT_CONFIG.stuckCallMs).state)).toBe('idle');
  });

  it('timers survive the changelog: restored state has the same due times', () => {
    const s = fold([isupEvent(SUB, 'IAM', T, { role: 'called' })], registered());
    expect(pendingTimers(fromRecord(toRecord(s)))).toEqual(pendingTimers(s));
  });
});
