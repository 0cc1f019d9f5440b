// ISUP and SIP call messages → call legs and call state, with overlapping
// calls, out-of-order ends, and circuits reused for a new call.
import { describe, expect, it } from 'vitest';
import type { SignalingEvent } from '../../../schemas/generated/records.ts';
import { DEFAULT_CONFIG } from './config.ts';
import { apply } from './derive.ts';
import { callStateOf, type SubscriberPresence } from './model.ts';
import { isupEvent, mapEvent, sipRequest, sipResponse } from '../../../test/support/signalingEvents.ts';

const A = 'msisdn:+3933399708';
const B = 'msisdn:+4891';
const T = Date.UTC(2026, 0, 1);

function fold(events: SignalingEvent[], s?: SubscriberPresence): SubscriberPresence {
  return events.reduce<SubscriberPresence | undefined>((st, e) => apply(st, e).state, s)!;
}

const isup = (sub: string, role: 'calling' | 'called', msg: string, t: number, cic = 213, cause: number | null = null) =>
  isupEvent(sub, msg, t, { cic, opc: 11522, dpc: 12163, role, cause });

describe('ISUP call state by role and CIC', () => {
  it('IAM → alerting, ACM → alerting, ANM → in-call, REL → idle with the cause; for the calling and the called party', () => {
    for (const [sub, role] of [
      [A, 'calling'],
      [B, 'called'],
    ] as const) {
      const s1 = fold([isup(sub, role, 'IAM', T)]);
      expect(callStateOf(s1)).toBe('alerting');
      expect(s1.activity).toEqual(role === 'calling' ? { 'call-made': T } : { 'call-received': T });
      const s2 = fold([isup(sub, role, 'ACM', T + 100)], s1);
      expect(callStateOf(s2)).toBe('alerting');
      const s3 = fold([isup(sub, role, 'ANM', T + 2000)], s2);
      expect(callStateOf(s3)).toBe('in-call');
      expect(s3.calls).toEqual([
        {
          key: 'isup:11522-12163:213',
          protocol: 'isup',
          role,
          phase: 'answered',
          startedAt: T,
          at: T + 2000,
          cause: null,
          answeredAt: T + 2000,
          remote: null,
          remoteRestricted: false,
        },
      ]);
      const s4 = fold([isup(sub, role, 'REL', T + 60_000, 213, 16)], s3);
      expect(callStateOf(s4)).toBe('idle');
      expect(s4.calls[0]).toMatchObject({ phase: 'released', cause: 16 });
      const s5 = fold([isup(sub, role, 'RLC', T + 60_020)], s4);
      expect(s5.calls).toEqual(s4.calls);
    }
  });

  it('the CIC is per point-code pair: messages in both directions address one leg', () => {
    const s = fold([
      isupEvent(A, 'IAM', T, { cic: 5, opc: 1, dpc: 2, role: 'calling' }),
      isupEvent(A, 'ANM', T + 1, { cic: 5, opc: 2, dpc: 1, role: 'calling' }),
    ]);
    expect(s.calls).toHaveLength(1);
    expect(callStateOf(s)).toBe('in-call');
  });

  it('overlapping calls on two CICs: the subscriber stays in a call until both are released', () => {
    const s = fold([
      isup(A, 'calling', 'IAM', T, 1),
      isup(A, 'calling', 'ANM', T + 10, 1),
      isup(A, 'called', 'IAM', T + 20, 2),
      isup(A, 'called', 'ANM', T + 30, 2),
      isup(A, 'calling', 'REL', T + 40, 1, 16),
    ]);
    expect(callStateOf(s)).toBe('in-call');
    expect(callStateOf(fold([isup(A, 'called', 'REL', T + 50, 2, 16)], s))).toBe('idle');
  });

  it('REL arriving before ANM: the late ANM does not revive the call', () => {
    const s = fold([isup(A, 'calling', 'IAM', T), isup(A, 'calling', 'REL', T + 5000, 213, 16), isup(A, 'calling', 'ANM', T + 1000)]);
    expect(callStateOf(s)).toBe('idle');
  });

  it('REL before its IAM (reordered): the late IAM does not start a call', () => {
    const s = fold([isup(A, 'calling', 'REL', T + 5000, 213, 16), isup(A, 'calling', 'IAM', T), isup(A, 'calling', 'ACM', T + 10)]);
    expect(callStateOf(s)).toBe('idle');
  });

  it('ACM after ANM (reordered) does not take the call back to alerting', () => {
    const s = fold([isup(A, 'calling', 'IAM', T), isup(A, 'calling', 'ANM', T + 200), isup(A, 'calling', 'ACM', T + 100)]);
    expect(callStateOf(s)).toBe('in-call');
  });

  it('a later IAM on a released circuit is a new call', () => {
    const s = fold([
      isup(A, 'calling', 'IAM', T),
      isup(A, 'calling', 'REL', T + 10),
      isup(A, 'calling', 'IAM', T + 20_000),
      isup(A, 'calling', 'ANM', T + 21_000),
    ]);
    expect(callStateOf(s)).toBe('in-call');
    expect(s.calls).toHaveLength(1);
    expect(s.calls[0]!.startedAt).toBe(T + 20_000);
  });

  it('released legs kept are bounded', () => {
    const events = Array.from({ length: 20 }, (_, i) => [isup(A, 'calling', 'IAM', T + i * 10, i), isup(A, 'calling', 'REL', T + i * 10 + 5, i)]).flat();
    const s = fold(events);
    expect(s.calls.length).toBe(DEFAULT_CONFIG.releasedCallsKept);
    expect(s.calls.map((c) => c.key)).toContain('isup:11522-12163:19');
  });

  it('anyTimeInterrogation assumedIdle ends calls whose release was lost', () => {
    const s = fold([
      isup(A, 'calling', 'IAM', T),
      isup(A, 'calling', 'ANM', T + 10),
      mapEvent(A, 'anyTimeInterrogation', 'result', T + 60_000, { subscriberState: 'assumedIdle' }),
    ]);
    expect(callStateOf(s)).toBe('idle');
  });
});

describe('SIP INVITE dialogs by Call-ID', () => {
  const alice = 'aor:sip:alice@example.com';
  const ids = { imsi: null, msisdn: null, aor: 'sip:alice@example.com' };
  const inv = { callId: 'c1@host', from: 'sip:alice@example.com', to: 'sip:bob@example.com' };

  it('INVITE → alerting, 180 → alerting, 200 → in-call, BYE → idle; the caller role comes from From', () => {
    const s1 = fold([{ ...sipRequest(alice, 'INVITE', T, inv), identities: ids }]);
    expect(callStateOf(s1)).toBe('alerting');
    expect(s1.calls[0]).toMatchObject({ key: 'sip:c1@host', protocol: 'sip', role: 'calling' });
    expect(s1.activity).toEqual({ 'call-made': T });
    const s2 = fold([sipResponse(alice, 'INVITE', 100, T + 5, inv), sipResponse(alice, 'INVITE', 180, T + 10, inv)], s1);
    expect(s2.calls[0]!.phase).toBe('alerting');
    const s3 = fold([sipResponse(alice, 'INVITE', 200, T + 3000, inv)], s2);
    expect(callStateOf(s3)).toBe('in-call');
    const s4 = fold([sipRequest(alice, 'BYE', T + 60_000, { ...inv, cseq: 2 })], s3);
    expect(callStateOf(s4)).toBe('idle');
  });

  it('a final error response ends the attempt with its status as cause', () => {
    const s = fold([sipRequest(alice, 'INVITE', T, inv), sipResponse(alice, 'INVITE', 486, T + 10, inv)]);
    expect(callStateOf(s)).toBe('idle');
    expect(s.calls[0]).toMatchObject({ phase: 'released', cause: 486 });
  });

  it('a re-INVITE in an answered dialog keeps the call; a 200 retransmitted after BYE does not revive it', () => {
    const s = fold([
      sipRequest(alice, 'INVITE', T, inv),
      sipResponse(alice, 'INVITE', 200, T + 10, inv),
      sipRequest(alice, 'INVITE', T + 20, { ...inv, cseq: 2 }),
    ]);
    expect(callStateOf(s)).toBe('in-call');
    const ended = fold([sipRequest(alice, 'BYE', T + 30, { ...inv, cseq: 3 }), sipResponse(alice, 'INVITE', 200, T + 40, inv)], s);
    expect(callStateOf(ended)).toBe('idle');
  });

  it('two dialogs overlap (call waiting): idle only when both end', () => {
    const inv2 = { ...inv, callId: 'c2@host' };
    const s = fold([
      sipRequest(alice, 'INVITE', T, inv),
      sipResponse(alice, 'INVITE', 200, T + 1, inv),
      sipRequest(alice, 'INVITE', T + 2, inv2),
      sipResponse(alice, 'INVITE', 200, T + 3, inv2),
      sipRequest(alice, 'BYE', T + 4, inv),
    ]);
    expect(callStateOf(s)).toBe('in-call');
    expect(callStateOf(fold([sipResponse(alice, 'BYE', 200, T + 5, inv2)], s))).toBe('idle');
  });
});

describe('the other party of a call (dialog-info remote identity)', () => {
  it('is the called number for an outgoing call and the calling number for an incoming one, with its presentation; the answer time is kept', () => {
    const out = fold([
      isupEvent(A, 'IAM', T, { cic: 1, role: 'calling', calling: '3933399708', called: '4891' }),
      isupEvent(A, 'ANM', T + 5, { cic: 1, role: 'calling' }),
    ]);
    expect(out.calls[0]).toMatchObject({ remote: '4891', remoteRestricted: false, answeredAt: T + 5 });
    const hidden = fold([isupEvent(B, 'IAM', T, { cic: 2, role: 'called', calling: '3933399708', called: '4891', callingPresentation: 'restricted' })]);
    expect(hidden.calls[0]).toMatchObject({ remote: '3933399708', remoteRestricted: true, answeredAt: null });
  });
});

describe('SIP callers who asked not to be identified (RFC 3323)', () => {
  const id = { callId: 'p1@pcscf', from: 'sip:bob@example.org', to: 'sip:alice@ims.example.net' };
  const toAlice = (e: SignalingEvent) => ({ ...e, identities: { imsi: null, msisdn: null, aor: 'sip:alice@ims.example.net' } });
  const invite = (facts: Partial<typeof id> & { privacy?: string | null }) =>
    toAlice(sipRequest('aor:sip:alice@ims.example.net', 'INVITE', T, { ...id, ...facts }));

  it('Privacy: id (or user, header) on the INVITE hides the caller from the called party; none or no header does not', () => {
    expect(fold([invite({ privacy: 'id' })]).calls[0]).toMatchObject({ role: 'called', remote: 'sip:bob@example.org', remoteRestricted: true });
    expect(fold([invite({ privacy: 'user; critical' })]).calls[0]).toMatchObject({ remoteRestricted: true });
    expect(fold([invite({ privacy: 'none' })]).calls[0]).toMatchObject({ remoteRestricted: false });
    expect(fold([invite({})]).calls[0]).toMatchObject({ remoteRestricted: false });
  });

  it('an anonymous From (RFC 3323 §4.1.1.3) is hidden too', () => {
    expect(fold([invite({ from: 'sip:anonymous@anonymous.invalid' })]).calls[0]).toMatchObject({ remoteRestricted: true });
  });

  it("the caller's own Privacy does not hide whom the caller called", () => {
    const out = toAlice(
      sipRequest('aor:sip:alice@ims.example.net', 'INVITE', T, {
        callId: 'p2@pcscf',
        from: 'sip:alice@ims.example.net',
        to: 'sip:bob@example.org',
        privacy: 'id',
      }),
    );
    expect(fold([out]).calls[0]).toMatchObject({ role: 'calling', remote: 'sip:bob@example.org', remoteRestricted: false });
  });
});
