// The five connectability states of seed 004 from presence + availability settings.
import { describe, expect, it } from 'vitest';
import type { SignalingEvent } from '../../../schemas/generated/records.ts';
import { connectability } from './connectability.ts';
import { apply } from './derive.ts';
import type { SubscriberPresence } from './model.ts';
import { mapEvent, sipResponse } from '../../../test/support/signalingEvents.ts';

const SUB = 'msisdn:+15550001';
const T = Date.UTC(2026, 0, 1);

function fold(events: SignalingEvent[]): SubscriberPresence {
  return events.reduce<SubscriberPresence | undefined>((st, e) => apply(st, e).state, undefined)!;
}

const attached = fold([mapEvent(SUB, 'updateLocation', 'invoke', T, { vlrNumber: '1', opc: 1 }), mapEvent(SUB, 'updateLocation', 'result', T + 1, { dpc: 1 })]);
const purged = fold([mapEvent(SUB, 'purgeMS', 'invoke', T, { vlrNumber: '1' })]);
const onlyRegistered = fold([sipResponse(SUB, 'REGISTER', 200, T, { callId: 'r', contacts: ['sip:a@h;expires=60'] })]);
const nothingKnown = fold([mapEvent(SUB, 'sendAuthenticationInfo', 'invoke', T)]);

describe('connectability', () => {
  it('connectable: a terminal reachable (attached, or a live SIP contact) and mode available', () => {
    expect(connectability(attached, { mode: 'available' })).toBe('connectable');
    expect(connectability(onlyRegistered, { mode: 'available' })).toBe('connectable');
    expect(connectability(attached)).toBe('connectable');
  });

  it('not connectable: no terminal reachable, or the user is not available', () => {
    expect(connectability(purged, { mode: 'available' })).toBe('not-connectable');
    for (const mode of ['busy', 'do-not-disturb', 'away'] as const) expect(connectability(attached, { mode })).toBe('not-connectable');
  });

  it('subject to authorization: screened to contacts and the watcher is not an authorised one', () => {
    const settings = { mode: 'available', screening: 'contacts-only' } as const;
    expect(connectability(attached, settings)).toBe('subject-to-authorization');
    expect(connectability(attached, settings, { authorized: false })).toBe('subject-to-authorization');
    expect(connectability(attached, settings, { authorized: true })).toBe('connectable');
  });

  it('in transfer: a transfer number is set, whether or not the terminal is reachable', () => {
    expect(connectability(attached, { mode: 'busy', forwardTo: '+15550002' })).toBe('in-transfer');
    expect(connectability(purged, { mode: 'available', forwardTo: '+15550002' })).toBe('in-transfer');
  });

  it('unknown: nothing known about the subscriber (or no state at all)', () => {
    expect(connectability(undefined)).toBe('unknown');
    expect(connectability(nothingKnown, { mode: 'available', forwardTo: '+1' })).toBe('unknown');
  });
});
