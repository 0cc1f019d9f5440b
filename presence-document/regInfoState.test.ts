import { describe, expect, it } from 'vitest';
import { parseRegInfo, type RegContact, type RegInfoDocument } from './regInfo.ts';
import { RegInfoState } from './regInfoState.ts';

const AOR = 'sip:user@example.com';
const contact = (id: string, uri: string, state: 'active' | 'terminated', event: RegContact['event'], expires?: number): RegContact => ({
  id,
  uri,
  state,
  event,
  ...(expires !== undefined ? { expires } : {}),
});
const doc = (version: number, state: 'full' | 'partial', contacts: RegContact[], regState: 'active' | 'terminated' | 'init' = 'active'): RegInfoDocument => ({
  version,
  state,
  registrations: [{ aor: AOR, id: 'as9', state: regState, contacts }],
});

describe('RegInfoState', () => {
  it('applies the RFC 3680 example: the expired contact is not a binding', () => {
    const s = new RegInfoState();
    const r = s.apply(
      parseRegInfo(`<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="0" state="full">
  <registration aor="sip:user@example.com" id="as9" state="active">
    <contact id="76" state="active" event="registered" duration-registered="7322" q="0.8"><uri>sip:user@pc887.example.com</uri></contact>
    <contact id="77" state="terminated" event="expired" duration-registered="3600" q="0.5"><uri>sip:user@university.edu</uri></contact>
  </registration></reginfo>`),
      1000,
    );
    expect(r).toEqual({
      outcome: 'applied',
      changed: [
        {
          aor: AOR,
          state: 'active',
          contacts: [{ uri: 'sip:user@pc887.example.com', expiresAt: null, event: 'registered' }],
          events: ['registered', 'expired'],
        },
      ],
    });
  });

  it('merges partial state in version order and keeps expiry absolute', () => {
    const s = new RegInfoState();
    s.apply(doc(0, 'full', [contact('1', 'sip:a@h1', 'active', 'registered', 3600)]), 0);
    const r = s.apply(doc(1, 'partial', [contact('2', 'sip:a@h2', 'active', 'created', 600)]), 10_000);
    expect(r.outcome).toBe('applied');
    if (r.outcome !== 'applied') return;
    expect(r.changed[0]!.contacts).toEqual([
      { uri: 'sip:a@h1', expiresAt: 3_600_000, event: 'registered' },
      { uri: 'sip:a@h2', expiresAt: 610_000, event: 'created' },
    ]);
    const refreshed = s.apply(doc(2, 'partial', [contact('1', 'sip:a@h1', 'active', 'refreshed', 3600)]), 20_000);
    expect(refreshed.outcome === 'applied' && refreshed.changed[0]!.contacts[0]).toEqual({ uri: 'sip:a@h1', expiresAt: 3_620_000, event: 'refreshed' });
    const expired = s.apply(doc(3, 'partial', [contact('2', 'sip:a@h2', 'terminated', 'expired')]), 30_000);
    expect(expired.outcome === 'applied' && expired.changed[0]!.contacts.map((c) => c.uri)).toEqual(['sip:a@h1']);
    const gone = s.apply(doc(4, 'partial', [contact('1', 'sip:a@h1', 'terminated', 'unregistered')], 'terminated'), 40_000);
    expect(gone).toEqual({ outcome: 'applied', changed: [{ aor: AOR, state: 'terminated', contacts: [], events: ['unregistered'] }] });
  });

  it('reports a gap in partial versions and applies nothing', () => {
    const s = new RegInfoState();
    s.apply(doc(5, 'full', [contact('1', 'sip:a@h1', 'active', 'registered', 60)]), 0);
    expect(s.apply(doc(7, 'partial', [contact('1', 'sip:a@h1', 'terminated', 'deactivated')]), 1)).toEqual({ outcome: 'gap', expected: 6, got: 7 });
    expect(s.views()[0]!.contacts).toHaveLength(1);
    // A partial document before any full one is a gap too.
    expect(new RegInfoState().apply(doc(0, 'partial', []), 0)).toEqual({ outcome: 'gap', expected: -1, got: 0 });
  });

  it('ignores retransmitted and older versions, accepts a full document after a reset', () => {
    const s = new RegInfoState();
    s.apply(doc(2, 'full', [contact('1', 'sip:a@h1', 'active', 'registered', 60)]), 0);
    expect(s.apply(doc(1, 'full', []), 1)).toEqual({ outcome: 'stale', have: 2, got: 1 });
    expect(s.apply(doc(2, 'partial', []), 1)).toEqual({ outcome: 'stale', have: 2, got: 2 });
    s.resetVersion();
    const r = s.apply(doc(0, 'full', [], 'init'), 2);
    expect(r).toEqual({ outcome: 'applied', changed: [{ aor: AOR, state: 'init', contacts: [], events: [] }] });
  });

  it('a full document that no longer lists a registration unregisters it', () => {
    const s = new RegInfoState();
    s.apply(doc(0, 'full', [contact('1', 'sip:a@h1', 'active', 'registered', 60)]), 0);
    expect(s.apply({ version: 1, state: 'full', registrations: [] }, 1)).toEqual({
      outcome: 'applied',
      changed: [{ aor: AOR, state: 'terminated', contacts: [], events: ['unregistered'] }],
    });
  });

  it('applies a full document of the same version again (Kamailio 5.6 sends every NOTIFY as version 0)', () => {
    const s = new RegInfoState();
    s.apply(doc(0, 'full', [contact('1', 'sip:a@h1', 'active', 'created', 60)]), 0);
    const r = s.apply(doc(0, 'full', [contact('1', 'sip:a@h1', 'terminated', 'unregistered', 59)], 'terminated'), 1000);
    expect(r).toEqual({ outcome: 'applied', changed: [{ aor: AOR, state: 'terminated', contacts: [], events: ['unregistered'] }] });
  });
});
