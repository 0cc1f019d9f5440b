// What the event builder keeps of a message for the busy lamp field: a SIP
// caller's Privacy header and an ISUP caller's presentation indicator, so the
// event manager never shows a caller who asked not to be shown.
import { describe, expect, it } from 'vitest';
import { parseSipMessage } from '../protocols/decode/sip/index.ts';
import { signalingEvents } from './eventBuilder.ts';
import type { DecodedSignal } from './signal.ts';

const invite = (extra: string[]) =>
  parseSipMessage(
    Buffer.from(
      [
        'INVITE sip:alice@ims.example.net SIP/2.0',
        'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1',
        'From: <sip:bob@example.org>;tag=b1',
        'To: <sip:alice@ims.example.net>',
        'Call-ID: c1@pcscf',
        'CSeq: 1 INVITE',
        'Max-Forwards: 70',
        ...extra,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    ),
  );

function events(message: ReturnType<typeof parseSipMessage>) {
  const s: DecodedSignal = {
    frame: 1,
    timeNs: 1_000_000_000n,
    protocol: 'sip',
    message: 'INVITE',
    kind: 'request',
    parties: [{ role: 'called', ids: { aor: 'sip:alice@ims.example.net' } }],
    index: 0,
    sip: { message },
  };
  return signalingEvents(s, { tap: 'test', capture: null }, (p) => (p.ids.aor ? `aor:${p.ids.aor}` : null));
}

describe('event builder: what the busy lamp needs to honour privacy', () => {
  it('keeps the Privacy header of a SIP message, null without one', () => {
    expect(events(invite(['Privacy: id']))[0]!.sip!.privacy).toBe('id');
    expect(events(invite([]))[0]!.sip!.privacy).toBeNull();
  });
});
