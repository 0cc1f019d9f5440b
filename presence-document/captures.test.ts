// PIDF bodies of the PUBLISHes in asterisk-subscribe-publish.pcapng, compared
// with tshark's XML dissection (entity, tuple id, basic status, note).
import { describe, expect, it } from 'vitest';
import { capture, haveCaptures, haveTshark, tshark } from '../test/support/captures.ts';
import { parseSipMessage } from '../protocols/decode/sip/message.ts';
import { udpPayloads } from '../test/support/tsharkPayloads.ts';
import { parsePresenceBody } from './body.ts';

describe.skipIf(!haveCaptures || !haveTshark)('PIDF in captured PUBLISHes', () => {
  it('entity / tuple / basic / note equal tshark', () => {
    const file = capture('sip/asterisk-subscribe-publish.pcapng');
    const expected = tshark([
      '-r',
      file,
      '-Y',
      'sip.Method == "PUBLISH"',
      '-T',
      'fields',
      '-e',
      'frame.number',
      '-e',
      'presence.entity',
      '-e',
      'presence.tuple.id',
      '-e',
      'presence.tuple.status.basic',
      '-e',
      'presence.tuple.note',
    ])
      .map((l) => l.split('\t'))
      // tshark lists the element tag then its text: "<basic>,open"
      .map(([frame, entity, id, basic, note]) => [Number(frame), entity, id, basic!.split(',').pop(), note!.split(',').pop()]);
    expect(expected).toHaveLength(3);
    const frames = new Set(expected.map((e) => e[0]));
    const ours = udpPayloads(file)
      .filter((d) => frames.has(d.frame))
      .map((d) => {
        const m = parseSipMessage(d.payload);
        const p = parsePresenceBody(m.contentType!.mediaType, m.contentType!.params, m.body);
        if (p?.kind !== 'pidf') throw new Error('not pidf');
        const t = p.document.services[0]!;
        return [d.frame, p.document.entity, t.id, t.basic, t.notes[0]?.text];
      });
    expect(ours).toEqual(expected);
  });
});
