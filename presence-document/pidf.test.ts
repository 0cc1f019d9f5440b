// PIDF parsing on RFC examples (RFC 3863 §3.4, the RPID example of RFC 4480,
// the RLS NOTIFY of RFC 4662), hand-typed; malformed XML must be a DecodeError.
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../protocols/decode/layer.ts';
import { parsePresenceBody } from './body.ts';
import { parseMultipart } from './multipart.ts';
import { parsePidf } from './parse.ts';

const rfc3863 = `<?xml version="1.0" encoding="UTF-8"?>
<impp:presence xmlns:impp="urn:ietf:params:xml:ns:pidf"
    entity="pres:someone@example.com">
  <impp:tuple id="sg89ae">
    <impp:status>
      <impp:basic>open</impp:basic>
    </impp:status>
    <impp:contact priority="0.8">tel:+09012345678</impp:contact>
  </impp:tuple>
</impp:presence>`;

const rpid = `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf"
  xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"
  xmlns:lt="urn:ietf:params:xml:ns:location-type"
  xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid"
  entity="pres:someone@example.com">
  <tuple id="bs35r9">
    <status><basic>open</basic></status>
    <dm:deviceID>urn:device:0003ba4811e3</dm:deviceID>
    <rpid:relationship><rpid:self/></rpid:relationship>
    <rpid:service-class><rpid:electronic/></rpid:service-class>
    <contact priority="0.8">im:someone@mobilecarrier.net</contact>
    <note xml:lang="en">Don't Disturb Please!</note>
    <note xml:lang="fr">Ne d&#233;rangez pas, s'il vous pla&#238;t</note>
    <timestamp>2005-10-27T16:49:29Z</timestamp>
  </tuple>
  <dm:person id="p1">
    <rpid:activities from="2005-05-30T12:00:00+05:00" until="2005-05-30T17:00:00+05:00">
      <rpid:note>Far away</rpid:note>
      <rpid:away/>
    </rpid:activities>
    <rpid:class>calendar</rpid:class>
    <rpid:mood>
      <rpid:angry/>
      <rpid:other>brooding</rpid:other>
    </rpid:mood>
    <rpid:place-is><rpid:audio><rpid:noisy/></rpid:audio></rpid:place-is>
    <rpid:place-type><lt:residence/></rpid:place-type>
    <rpid:privacy><rpid:unknown/></rpid:privacy>
    <rpid:sphere>bowling league</rpid:sphere>
    <rpid:time-offset>-240</rpid:time-offset>
    <rpid:user-input idle-threshold="600" last-input="2004-10-21T13:20:00.000-05:00">idle</rpid:user-input>
    <dm:timestamp>2005-05-30T16:09:44+05:00</dm:timestamp>
  </dm:person>
  <dm:device id="pc147">
    <rpid:user-input idle-threshold="600" last-input="2004-10-21T13:20:00.000-05:00">idle</rpid:user-input>
    <dm:deviceID>urn:device:0003ba4811e3</dm:deviceID>
    <dm:note>PC</dm:note>
  </dm:device>
</presence>`;

describe('parsePidf', () => {
  it('RFC 3863 §3.4 example with an impp: prefix', () => {
    expect(parsePidf(Buffer.from(rfc3863))).toEqual({
      entity: 'pres:someone@example.com',
      services: [{ id: 'sg89ae', basic: 'open', contact: { uri: 'tel:+09012345678', priority: 0.8 }, notes: [], deviceIds: [], activities: [] }],
      persons: [],
      devices: [],
      notes: [],
    });
  });

  it('RFC 4480 RPID example: person activities / mood / place-type, device, service', () => {
    const d = parsePidf(rpid);
    expect(d.services).toHaveLength(1);
    expect(d.services[0]).toMatchObject({
      id: 'bs35r9',
      basic: 'open',
      deviceIds: ['urn:device:0003ba4811e3'],
      serviceClass: 'electronic',
      contact: { uri: 'im:someone@mobilecarrier.net', priority: 0.8 },
      timestamp: '2005-10-27T16:49:29Z',
    });
    expect(d.services[0]!.notes).toEqual([
      { text: "Don't Disturb Please!", lang: 'en' },
      { text: "Ne d\u00e9rangez pas, s'il vous pla\u00eet", lang: 'fr' },
    ]);
    expect(d.persons).toEqual([
      {
        id: 'p1',
        activities: ['away'],
        mood: ['angry', 'other:brooding'],
        placeType: ['residence'],
        userInput: 'idle',
        notes: [],
        timestamp: '2005-05-30T16:09:44+05:00',
      },
    ]);
    expect(d.devices).toEqual([{ id: 'pc147', deviceId: 'urn:device:0003ba4811e3', userInput: 'idle', notes: [{ text: 'PC' }] }]);
  });

  it('on-the-phone activity with a different rpid prefix', () => {
    const d =
      parsePidf(`<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:r="urn:ietf:params:xml:ns:pidf:rpid" xmlns:x="urn:ietf:params:xml:ns:pidf:data-model" entity="sip:a@example.com">
      <x:person id="p"><r:activities><r:on-the-phone/></r:activities></x:person>
      <tuple id="t"><status><basic>closed</basic></status></tuple><note>top</note></presence>`);
    expect(d.persons[0]!.activities).toEqual(['on-the-phone']);
    expect(d.services[0]!.basic).toBe('closed');
    expect(d.notes).toEqual([{ text: 'top' }]);
  });

  it('malformed XML, wrong root and missing entity are DecodeErrors', () => {
    for (const bad of ['<presence entity="x"><tuple></presence>', '<list uri="x"/>', '<presence><tuple id="a"/></presence>', 'not xml at all <', '']) {
      let err: unknown;
      try {
        parsePidf(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DecodeError);
      expect((err as DecodeError).layer).toBe('pidf');
      expect((err as DecodeError).reason).toBe('malformed');
    }
  });
});

const B = '50UBfW7LSCVLtggUPe5z';
const rlsBody = [
  `--${B}`,
  'Content-Transfer-Encoding: binary',
  'Content-ID: <nXYxAE@pres.example.com>',
  'Content-Type: application/rlmi+xml;charset="UTF-8"',
  '',
  '<?xml version="1.0" encoding="UTF-8"?>',
  '<list xmlns="urn:ietf:params:xml:ns:rlmi" uri="sip:adam-friends@pres.example.com" version="1" fullState="true">',
  '  <name xml:lang="en">Buddy List at COM</name>',
  '  <resource uri="sip:bob@example.com"><name>Bob Smith</name>',
  '    <instance id="juwigmtboe" state="active" cid="bUZBsM@pres.example.com"/></resource>',
  '  <resource uri="sip:dave@example.com"><name>Dave Jones</name>',
  '    <instance id="hqzsuxtfyq" state="active" cid="ZvSvkz@pres.example.com"/></resource>',
  '  <resource uri="sip:ed@example.net"><name>Ed at NET</name></resource>',
  '</list>',
  '',
  `--${B}`,
  'Content-Transfer-Encoding: binary',
  'Content-ID: <bUZBsM@pres.example.com>',
  'Content-Type: application/pidf+xml;charset="UTF-8"',
  '',
  '<?xml version="1.0" encoding="UTF-8"?>',
  '<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:bob@example.com">',
  '  <tuple id="sg89ae"><status><basic>open</basic></status><contact priority="1.0">sip:bob@example.com</contact></tuple>',
  '</presence>',
  '',
  `--${B}`,
  'Content-Transfer-Encoding: binary',
  'Content-ID: <ZvSvkz@pres.example.com>',
  'Content-Type: application/pidf+xml;charset="UTF-8"',
  '',
  '<?xml version="1.0" encoding="UTF-8"?>',
  '<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:dave@example.com">',
  '  <tuple id="slie74"><status><basic>closed</basic></status></tuple>',
  '</presence>',
  '',
  `--${B}--`,
  '',
].join('\r\n');

describe('multipart/related RLMI (RFC 4662 §6 style NOTIFY body)', () => {
  it('splits the parts and parses RLMI + PIDF', () => {
    const parts = parseMultipart(Buffer.from(rlsBody), B);
    expect(parts.map((p) => [p.contentType, p.contentId])).toEqual([
      ['application/rlmi+xml', 'nXYxAE@pres.example.com'],
      ['application/pidf+xml', 'bUZBsM@pres.example.com'],
      ['application/pidf+xml', 'ZvSvkz@pres.example.com'],
    ]);
    // the CRLF before a delimiter belongs to the delimiter (RFC 2046 §5.1.1), the blank line before it to the part
    expect(parts[1]!.body.toString().endsWith('</presence>\r\n')).toBe(true);

    const r = parsePresenceBody('multipart/related', { type: 'application/rlmi+xml', start: '<nXYxAE@pres.example.com>', boundary: B }, Buffer.from(rlsBody));
    expect(r?.kind).toBe('rlmi');
    if (r?.kind !== 'rlmi') return;
    expect(r.list).toMatchObject({ uri: 'sip:adam-friends@pres.example.com', version: 1, fullState: true, names: ['Buddy List at COM'] });
    expect(r.list.resources.map((x) => [x.uri, x.instances.map((i) => `${i.state}:${i.cid ?? ''}`)])).toEqual([
      ['sip:bob@example.com', ['active:bUZBsM@pres.example.com']],
      ['sip:dave@example.com', ['active:ZvSvkz@pres.example.com']],
      ['sip:ed@example.net', []],
    ]);
    const docs = r.parts.map((p) =>
      p.presence?.kind === 'pidf' ? [p.part.contentId, p.presence.document.entity, p.presence.document.services[0]?.basic] : null,
    );
    expect(docs).toEqual([
      ['bUZBsM@pres.example.com', 'sip:bob@example.com', 'open'],
      ['ZvSvkz@pres.example.com', 'sip:dave@example.com', 'closed'],
    ]);
  });

  it('missing close delimiter is truncated, unknown boundary malformed', () => {
    const cut = Buffer.from(rlsBody.slice(0, rlsBody.lastIndexOf(`--${B}--`) - 2));
    expect(() => parseMultipart(cut, B)).toThrowError(/multipart: truncated/);
    expect(() => parseMultipart(Buffer.from(rlsBody), 'nope')).toThrowError(/multipart: malformed/);
  });

  it('non-presence media types yield undefined', () => {
    expect(parsePresenceBody('application/sdp', {}, Buffer.from('v=0'))).toBeUndefined();
  });
});
