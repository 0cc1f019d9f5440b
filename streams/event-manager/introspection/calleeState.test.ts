import { describe, expect, it } from 'vitest';
import { decideCall } from '../../../subscriber/call-handling/callDecision.ts';
import { DEFAULT_PROFILES } from '../../../subscriber/availability/settingsProfile.ts';
import { emptyPresence, type CallLeg, type SubscriberPresence } from '../presence/model.ts';
import { calleeState } from './calleeState.ts';

const KEY = 'msisdn:+4891';
const leg = (phase: CallLeg['phase']): CallLeg => ({
  key: 'isup:100-200-213',
  protocol: 'isup',
  role: 'called',
  phase,
  startedAt: 1000,
  at: 2000,
  cause: null,
  answeredAt: phase === 'answered' ? 2000 : null,
  remote: '3933399708',
  remoteRestricted: false,
});
const withCalls = (calls: CallLeg[]): SubscriberPresence => ({ ...emptyPresence(KEY), calls });

describe('calleeState', () => {
  it('knows a callee seen only in an answered call (a fixed line on ISUP): reachable, in a call, so busy', () => {
    const callee = calleeState(KEY, withCalls([leg('answered')]));
    expect(callee).toMatchObject({ known: true, reachable: true, call: 'in-call', number: '+4891' });
    expect(decideCall(callee, DEFAULT_PROFILES, { caller: 'tel:+351210000001', at: 2500 })).toMatchObject({ action: 'reject', reason: 'busy' });
  });

  it('knows nothing of a callee whose only call is released, nor of one never seen', () => {
    expect(calleeState(KEY, withCalls([leg('released')]))).toMatchObject({ known: false, reachable: false, call: 'idle' });
    expect(calleeState(KEY, emptyPresence(KEY))).toMatchObject({ known: false, reachable: false });
  });
});
