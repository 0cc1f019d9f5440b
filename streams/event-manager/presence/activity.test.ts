// SIP MESSAGE → messaging activity by side; the side from From/To or the taps' role suffix.
import { describe, expect, it } from 'vitest';
import { apply } from './derive.ts';
import { sipRole } from './sipRole.ts';
import { sipRequest, sipResponse } from '../../../test/support/signalingEvents.ts';

const ALICE = 'aor:sip:alice@example.com';
const T = Date.UTC(2026, 0, 1);
const ids = { imsi: null, msisdn: null, aor: 'sip:alice@example.com' };
const msg = { callId: 'm1', from: 'sip:alice@example.com', to: 'sip:bob@example.com' };

describe('messaging activity', () => {
  it('MESSAGE from the subscriber → message-sent; to it → message-received; responses add nothing', () => {
    const sent = apply(undefined, { ...sipRequest(ALICE, 'MESSAGE', T, msg), identities: ids }).state;
    expect(sent.activity).toEqual({ 'message-sent': T });
    const received = apply(undefined, {
      ...sipRequest(ALICE, 'MESSAGE', T, { ...msg, from: 'sip:bob@example.com', to: 'sip:alice@example.com' }),
      identities: ids,
    }).state;
    expect(received.activity).toEqual({ 'message-received': T });
    expect(apply(undefined, { ...sipResponse(ALICE, 'MESSAGE', 200, T, msg), identities: ids }).changed).toBe(false);
  });

  it('the side: a tel/sip MSISDN user part matches the msisdn identity; otherwise the event id role suffix', () => {
    const byNumber = {
      ...sipRequest('msisdn:+15550001', 'INVITE', T, { callId: 'c', from: 'sip:+15550002@h', to: 'tel:+15550001' }),
      identities: { imsi: null, msisdn: '+15550001', aor: null },
    };
    expect(sipRole(byNumber)).toBe('called');
    const bySuffix = { ...sipRequest('msisdn:+15550001', 'INVITE', T, { callId: 'c', from: 'sip:x@h', to: 'sip:y@h' }), eventId: 'hep:-:12:0:calling' };
    expect(sipRole(bySuffix)).toBe('calling');
  });
});
