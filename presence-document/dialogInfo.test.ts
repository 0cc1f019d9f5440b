// The dialog-info encoder (RFC 4235 §4): documents in schema order, escaped,
// byte-equal for equal input, and valid against the RFC's schema
// (dialog-info.xsd, checked with xmllint when it is installed).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HAVE_XMLLINT, validateAgainstSchema } from '../test/support/xmlSchema.ts';
import { DecodeError } from '../protocols/decode/layer.ts';
import { parseDialogInfo, renderDialogInfo, type DialogInfoDocument } from './dialogInfo.ts';

const XSD = join(import.meta.dirname, 'dialog-info.xsd');
const xmllint = (xml: string) => validateAgainstSchema(XSD, xml);

const ringing: DialogInfoDocument = {
  entity: 'sip:+351910000001@ims.example.net',
  version: 0,
  state: 'full',
  dialogs: [
    {
      id: 'isup-100-200-7',
      direction: 'recipient',
      state: 'early',
      duration: 3,
      local: { identity: 'tel:+351910000001' },
      remote: { identity: 'tel:+351210000009', displayName: 'Reception & <Front>' },
    },
  ],
};

describe('renderDialogInfo', () => {
  it('writes the RFC 4235 document: version, full state, entity, one dialog with direction, state, duration and identities', () => {
    const xml = renderDialogInfo(ringing);
    expect(xml).toBe(
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="0" state="full" entity="sip:+351910000001@ims.example.net">',
        '  <dialog id="isup-100-200-7" direction="recipient">',
        '    <state>early</state>',
        '    <duration>3</duration>',
        '    <local>',
        '      <identity>tel:+351910000001</identity>',
        '    </local>',
        '    <remote>',
        '      <identity display-name="Reception &amp; &lt;Front&gt;">tel:+351210000009</identity>',
        '    </remote>',
        '  </dialog>',
        '</dialog-info>',
        '',
      ].join('\n'),
    );
  });

  it('writes a terminated dialog with its event and code, SIP dialog ids, and no participants when none are given', () => {
    const xml = renderDialogInfo({
      entity: 'sip:bob@example.com',
      version: 7,
      state: 'partial',
      dialogs: [
        {
          id: 'd1',
          callId: 'a84b4c76e66710',
          localTag: '1928301774',
          remoteTag: '456887766',
          direction: 'initiator',
          state: 'terminated',
          event: 'rejected',
          code: 486,
        },
      ],
    });
    expect(xml).toContain('version="7" state="partial"');
    expect(xml).toContain('<dialog id="d1" call-id="a84b4c76e66710" local-tag="1928301774" remote-tag="456887766" direction="initiator">');
    expect(xml).toContain('<state event="rejected" code="486">terminated</state>');
    expect(xml).not.toContain('<local>');
    expect(xml).not.toContain('<remote>');
    expect(xml).not.toContain('<duration>');
  });

  it('writes an empty full document when there is no call (the lamp is off)', () => {
    const xml = renderDialogInfo({ entity: 'sip:bob@example.com', version: 0, state: 'full', dialogs: [] });
    expect(xml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="0" state="full" entity="sip:bob@example.com"/>\n',
    );
  });

  it('gives byte-equal bodies for equal documents', () => {
    expect(renderDialogInfo(structuredClone(ringing))).toBe(renderDialogInfo(ringing));
  });

  it('drops characters XML cannot carry instead of writing an invalid document', () => {
    const xml = renderDialogInfo({ ...ringing, dialogs: [{ ...ringing.dialogs[0]!, remote: { identity: 'tel:+3512\u0000100' } }] });
    expect(xml).toContain('<identity>tel:+3512100</identity>');
  });

  it.skipIf(!HAVE_XMLLINT)('is valid against the RFC 4235 schema (xmllint)', () => {
    const docs: DialogInfoDocument[] = [
      ringing,
      { entity: 'sip:bob@example.com', version: 0, state: 'full', dialogs: [] },
      {
        entity: 'sip:bob@example.com',
        version: 12,
        state: 'partial',
        dialogs: [
          { id: 'a', direction: 'initiator', state: 'trying' },
          {
            id: 'b',
            callId: 'c@h',
            localTag: 'l',
            remoteTag: 'r',
            direction: 'recipient',
            state: 'confirmed',
            duration: 60,
            remote: { identity: 'sip:carol@example.com' },
          },
          { id: 'c', state: 'terminated', event: 'remote-bye' },
          { id: 'd', state: 'terminated', event: 'cancelled', code: 487, local: { identity: 'sip:bob@example.com', displayName: 'Bob' } },
        ],
      },
    ];
    for (const d of docs) {
      const r = xmllint(renderDialogInfo(d));
      expect(r.ok, r.out).toBe(true);
    }
    // The check can fail: a state outside the RFC's enumeration is refused.
    expect(xmllint(renderDialogInfo(ringing).replace('<state>early</state>', '<state>ringing</state>')).ok).toBe(false);
  });
});

describe('parseDialogInfo', () => {
  // As Kamailio's pua_dialoginfo PUBLISHes a call (RFC 4235 §4.3 shape).
  const published = `<?xml version="1.0"?>
<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="1" state="full" entity="sip:alice@example.com">
  <dialog id="as7d900as8" call-id="a84b4c76e66710" local-tag="1928301774" direction="initiator">
    <state>confirmed</state>
    <local><identity display="Alice">sip:alice@example.com</identity><target uri="sip:alice@pc33.example.com"/></local>
    <remote><identity>sip:bob@example.org</identity></remote>
  </dialog>
  <dialog id="x2"><state event="rejected" code="486">terminated</state></dialog>
</dialog-info>`;

  it('reads version, state, entity and each dialog with its state, direction and identities', () => {
    expect(parseDialogInfo(published)).toEqual({
      entity: 'sip:alice@example.com',
      version: 1,
      state: 'full',
      dialogs: [
        {
          id: 'as7d900as8',
          callId: 'a84b4c76e66710',
          localTag: '1928301774',
          direction: 'initiator',
          state: 'confirmed',
          local: { identity: 'sip:alice@example.com', displayName: 'Alice', target: 'sip:alice@pc33.example.com' },
          remote: { identity: 'sip:bob@example.org' },
        },
        { id: 'x2', state: 'terminated', event: 'rejected', code: 486 },
      ],
    });
  });

  it('round-trips what it renders', () => {
    expect(parseDialogInfo(renderDialogInfo(ringing))).toEqual(ringing);
  });

  it('refuses what is not a dialog-info document', () => {
    expect(() => parseDialogInfo('<dialog-info version="1"')).toThrow(DecodeError);
    expect(() => parseDialogInfo('<presence entity="sip:a@b"/>')).toThrow(DecodeError);
    expect(() => parseDialogInfo('<dialog-info version="x" state="full" entity="sip:a@b"/>')).toThrow(DecodeError);
    expect(() =>
      parseDialogInfo('<dialog-info version="1" state="full" entity="sip:a@b"><dialog id="1"><state>ringing</state></dialog></dialog-info>'),
    ).toThrow(DecodeError);
  });
});
