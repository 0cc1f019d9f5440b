import { describe, expect, it } from 'vitest';
import { DecodeError } from '../protocols/decode/layer.ts';
import { parseRegInfo, renderRegInfo } from './regInfo.ts';

// RFC 3680 §6, the example NOTIFY body (full state, one contact active, one expired).
const RFC3680_FULL = `<?xml version="1.0"?>
<reginfo xmlns="urn:ietf:params:xml:ns:reginfo"
         version="0" state="full">
  <registration aor="sip:user@example.com" id="as9"
                state="active">
    <contact id="76" state="active" event="registered"
             duration-registered="7322"
             q="0.8">
      <uri>sip:user@pc887.example.com</uri>
    </contact>
    <contact id="77" state="terminated" event="expired"
             duration-registered="3600"
             q="0.5">
      <uri>sip:user@university.edu</uri>
    </contact>
  </registration>
</reginfo>`;

describe('parseRegInfo', () => {
  it('reads the RFC 3680 example', () => {
    const doc = parseRegInfo(RFC3680_FULL);
    expect(doc).toEqual({
      version: 0,
      state: 'full',
      registrations: [
        {
          aor: 'sip:user@example.com',
          id: 'as9',
          state: 'active',
          contacts: [
            { id: '76', state: 'active', event: 'registered', uri: 'sip:user@pc887.example.com', durationRegistered: 7322, q: '0.8' },
            { id: '77', state: 'terminated', event: 'expired', uri: 'sip:user@university.edu', durationRegistered: 3600, q: '0.5' },
          ],
        },
      ],
    });
  });

  it('reads any namespace prefix, expires, callid and cseq (Kamailio pua_reginfo style)', () => {
    const doc = parseRegInfo(`<?xml version="1.0"?>
<r:reginfo xmlns:r="urn:ietf:params:xml:ns:reginfo" version="3" state="partial">
 <r:registration aor="sip:+4911111@ims.test" id="0xabc" state="active">
  <r:contact id="0xc1" state="active" event="refreshed" expires="599" callid="cid@h" cseq="7"><r:uri>sip:ue@10.0.0.1:5060</r:uri><r:display-name>A &amp; B</r:display-name></r:contact>
 </r:registration>
</r:reginfo>`);
    expect(doc.registrations[0]!.contacts[0]).toEqual({
      id: '0xc1',
      state: 'active',
      event: 'refreshed',
      uri: 'sip:ue@10.0.0.1:5060',
      expires: 599,
      callId: 'cid@h',
      cseq: 7,
      displayName: 'A & B',
    });
  });

  it('round-trips through renderRegInfo', () => {
    const doc = parseRegInfo(RFC3680_FULL);
    expect(parseRegInfo(renderRegInfo(doc))).toEqual(doc);
  });

  it.each([
    ['not XML', '<reginfo version="0" state="full">'],
    ['another document', '<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:a@b"/>'],
    ['no version', '<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" state="full"/>'],
    ['a negative version', '<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="-1" state="full"/>'],
    ['an unknown state', '<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="0" state="some"/>'],
    ['a registration without aor', '<reginfo version="0" state="full"><registration id="a" state="active"/></reginfo>'],
    [
      'an unknown contact event',
      '<reginfo version="0" state="full"><registration aor="sip:a@b" id="a" state="active"><contact id="1" state="active" event="moved"><uri>sip:x@y</uri></contact></registration></reginfo>',
    ],
    [
      'a contact without uri',
      '<reginfo version="0" state="full"><registration aor="sip:a@b" id="a" state="active"><contact id="1" state="active" event="registered"/></registration></reginfo>',
    ],
  ])('refuses %s with a DecodeError', (_what, body) => {
    expect(() => parseRegInfo(body)).toThrow(DecodeError);
  });
});
