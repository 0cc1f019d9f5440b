// The call-handling decision (issue 16 part 5): every branch of decideCall,
// per caller (the boss is excepted from the meeting mode, a denied caller is
// declined), busy handling, urgent override and the voicemail fallbacks.
import { describe, expect, it } from 'vitest';
import type { UserProfiles } from '../availability/availabilityProfile.ts';
import { DEFAULT_PROFILES } from '../availability/settingsProfile.ts';
import { BOSS, COLLEAGUE, PROFESSIONAL } from '../../test/support/availabilityProfiles.ts';
import { decideCall, type CalleeState } from './callDecision.ts';

// Wednesday 2026-03-11: 10:30 in Paris (UTC+1) is inside the meeting rule, 14:00 is not.
const IN_MEETING = Date.parse('2026-03-11T09:30:00Z');
const AFTERNOON = Date.parse('2026-03-11T13:00:00Z');
const STRANGER = 'sip:someone@elsewhere.example';

const idle: CalleeState = { known: true, reachable: true, call: 'idle', contacts: ['sip:alice@10.0.0.5:5060'], number: '+351910000077' };
const busy: CalleeState = { ...idle, call: 'in-call' };

function withMode(
  state: UserProfiles['profiles'][number]['modes'][number]['state'],
  lists: Partial<UserProfiles['profiles'][number]['lists']> = {},
): UserProfiles {
  return {
    active: 'p',
    profiles: [
      {
        name: 'p',
        timeZone: 'UTC',
        defaultMode: 'm',
        modes: [{ name: 'm', state }],
        lists: { allowed: [BOSS], denied: [], consent: [], watched: [], others: 'allowed', ...lists },
      },
    ],
  };
}

describe('decideCall', () => {
  it('puts an idle, reachable, available callee through to its registered contacts', () => {
    const d = decideCall(idle, DEFAULT_PROFILES, { caller: STRANGER, at: AFTERNOON });
    expect(d).toMatchObject({ action: 'accept', targets: [{ uri: 'sip:alice@10.0.0.5:5060', kind: 'contact' }], mode: 'available', urgentOverride: false });
  });

  it('differs per caller: in the meeting a colleague is forwarded to the mobile, the boss (excepted) is put through', () => {
    const colleague = decideCall(idle, PROFESSIONAL, { caller: COLLEAGUE, at: IN_MEETING });
    expect(colleague).toMatchObject({ action: 'forward', targets: [{ uri: 'tel:+351910000077', kind: 'terminal', terminal: 'mobile' }], mode: 'meeting' });
    const boss = decideCall(idle, PROFESSIONAL, { caller: BOSS, at: IN_MEETING });
    expect(boss).toMatchObject({ action: 'accept', mode: 'available' });
    // After the meeting, everyone reaches the user.
    expect(decideCall(idle, PROFESSIONAL, { caller: COLLEAGUE, at: AFTERNOON })).toMatchObject({ action: 'accept', mode: 'available' });
  });

  it('busy: 486-style reject, or voicemail when the asker has one; a message is not stopped by a call', () => {
    expect(decideCall(busy, DEFAULT_PROFILES, { caller: STRANGER, at: AFTERNOON })).toMatchObject({ action: 'reject', reason: 'busy' });
    expect(decideCall(busy, DEFAULT_PROFILES, { caller: STRANGER, at: AFTERNOON, voicemail: true })).toMatchObject({ action: 'voicemail', reason: 'busy' });
    expect(decideCall(busy, DEFAULT_PROFILES, { caller: STRANGER, at: AFTERNOON, medium: 'message' })).toMatchObject({ action: 'accept' });
    // Being rung is not busy: call waiting is the network's.
    expect(decideCall({ ...idle, call: 'alerting' }, DEFAULT_PROFILES, { at: AFTERNOON })).toMatchObject({ action: 'accept' });
  });

  it('declines a caller on the denied list, whatever the state', () => {
    const p = withMode({ kind: 'available' }, { denied: [STRANGER] });
    expect(decideCall(idle, p, { caller: 'sip:someone@ELSEWHERE.example;transport=tcp', at: AFTERNOON })).toMatchObject({
      action: 'reject',
      reason: 'declined',
    });
    expect(decideCall(idle, p, { caller: COLLEAGUE, at: AFTERNOON })).toMatchObject({ action: 'accept' });
  });

  it('not available: reject or voicemail; unreachable likewise; unknown presence is rejected as unknown', () => {
    const off = withMode({ kind: 'not-available' });
    expect(decideCall(idle, off, { caller: STRANGER, at: AFTERNOON })).toMatchObject({ action: 'reject', reason: 'not-available', mode: 'm' });
    expect(decideCall(idle, off, { caller: STRANGER, at: AFTERNOON, voicemail: true })).toMatchObject({ action: 'voicemail', reason: 'not-available' });
    const away = { ...idle, reachable: false, contacts: [] };
    expect(decideCall(away, DEFAULT_PROFILES, { at: AFTERNOON })).toMatchObject({ action: 'reject', reason: 'unreachable' });
    expect(decideCall({ ...away, known: false }, DEFAULT_PROFILES, { at: AFTERNOON })).toMatchObject({ action: 'reject', reason: 'unknown' });
  });

  it('urgent calls from an authorised caller override not-available, transfer and busy; others get the usual answer', () => {
    const off = withMode({ kind: 'not-available' });
    expect(decideCall(busy, off, { caller: BOSS, urgent: true, at: AFTERNOON })).toMatchObject({
      action: 'accept',
      urgentOverride: true,
      targets: [{ kind: 'contact' }],
    });
    // Not authorised (only "others: allowed"): urgency alone changes nothing.
    expect(decideCall(busy, off, { caller: STRANGER, urgent: true, at: AFTERNOON })).toMatchObject({ action: 'reject', reason: 'not-available' });
    // The boss without urgency: the mode holds.
    expect(decideCall(busy, off, { caller: BOSS, at: AFTERNOON })).toMatchObject({ action: 'reject', reason: 'not-available' });
    const transfer = withMode({ kind: 'transfer', to: { number: '+33 1 23 45 67 89' } });
    expect(decideCall(idle, transfer, { caller: BOSS, urgent: true, at: AFTERNOON })).toMatchObject({ action: 'accept', urgentOverride: true });
    // An unreachable callee cannot be put through, urgent or not.
    expect(decideCall({ ...idle, reachable: false, contacts: [] }, DEFAULT_PROFILES, { caller: BOSS, urgent: true, at: AFTERNOON })).toMatchObject({
      action: 'reject',
      reason: 'unreachable',
    });
  });

  it('forwards to a transfer number (as tel:), even when the callee is busy or unreachable', () => {
    const transfer = withMode({ kind: 'transfer', to: { number: '+33 1 23 45 67 89' } });
    for (const callee of [idle, busy, { ...idle, reachable: false, contacts: [] }]) {
      expect(decideCall(callee, transfer, { caller: STRANGER, at: AFTERNOON })).toMatchObject({
        action: 'forward',
        targets: [{ uri: 'tel:+33123456789', kind: 'number' }],
      });
    }
  });

  it('a transfer to a written-messaging terminal: messages go there, calls are announced (notify-only) or go to voicemail', () => {
    const sms = withMode({ kind: 'transfer', to: { terminal: 'sms' } });
    expect(decideCall(idle, sms, { at: AFTERNOON, medium: 'message' })).toMatchObject({
      action: 'forward',
      targets: [{ uri: 'tel:+351910000077', terminal: 'sms' }],
    });
    expect(decideCall(idle, sms, { at: AFTERNOON, medium: 'voice' })).toMatchObject({ action: 'notify-only', reason: 'not-available' });
    expect(decideCall(idle, sms, { at: AFTERNOON, medium: 'video', voicemail: true })).toMatchObject({ action: 'voicemail' });
  });

  it('a transfer to a terminal without a known address is not available; VoIP goes to the registered contacts', () => {
    const fixed = withMode({ kind: 'transfer', to: { terminal: 'fixed' } });
    expect(decideCall(idle, fixed, { at: AFTERNOON })).toMatchObject({ action: 'reject', reason: 'not-available' });
    const voip = withMode({ kind: 'transfer', to: { terminal: 'voip' } });
    expect(decideCall(idle, voip, { at: AFTERNOON })).toMatchObject({ action: 'forward', targets: [{ uri: 'sip:alice@10.0.0.5:5060', terminal: 'voip' }] });
    const mobile = withMode({ kind: 'transfer', to: { terminal: 'mobile' } });
    const { number: _, ...aorOnly } = idle;
    expect(decideCall(aorOnly, mobile, { at: AFTERNOON })).toMatchObject({ action: 'reject', reason: 'not-available' });
  });

  it('hidden and unknown modes hide the state from watchers, not calls', () => {
    for (const kind of ['hidden', 'unknown'] as const) {
      expect(decideCall(idle, withMode({ kind }), { at: AFTERNOON })).toMatchObject({ action: 'accept' });
      expect(decideCall(busy, withMode({ kind }), { at: AFTERNOON })).toMatchObject({ action: 'reject', reason: 'busy' });
    }
  });
});
