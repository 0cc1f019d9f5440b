// Mutated PIDF / multipart bodies: only DecodeError may escape.
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../protocols/decode/layer.ts';
import { mutate, prng } from '../test/support/tsharkPayloads.ts';
import { parsePresenceBody } from './body.ts';

const pidf = Buffer.from(
  `<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="sip:a@b"><tuple id="t"><status><basic>open</basic></status><contact priority="0.5">sip:a@c</contact><note xml:lang="en">n</note></tuple><dm:person id="p"><rpid:activities><rpid:busy/></rpid:activities><rpid:mood><rpid:other>x</rpid:other></rpid:mood></dm:person><dm:device id="d"><dm:deviceID>mac:1</dm:deviceID></dm:device></presence>`,
);
const multi = Buffer.from(
  `--b\r\nContent-Type: application/rlmi+xml\r\nContent-ID: <r>\r\n\r\n<list xmlns="urn:ietf:params:xml:ns:rlmi" uri="sip:l@x" version="0" fullState="false"><resource uri="sip:a@b"><instance id="i" state="active" cid="p1"/></resource></list>\r\n--b\r\nContent-Type: application/pidf+xml\r\nContent-ID: <p1>\r\n\r\n${pidf.toString()}\r\n--b--\r\n`,
);

describe('PIDF fuzz', () => {
  it('only DecodeError escapes', () => {
    const rnd = prng(0x91df);
    const deadline = Date.now() + 3000;
    let n = 0;
    while (n < 20_000 && Date.now() < deadline) {
      const useMulti = n % 2 === 1;
      const input = mutate(useMulti ? multi : pidf, rnd);
      n++;
      try {
        if (useMulti) parsePresenceBody('multipart/related', { boundary: 'b', type: 'application/rlmi+xml' }, input);
        else parsePresenceBody('application/pidf+xml', {}, input);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw new Error(`non-DecodeError ${String(e)} on ${input.toString('base64')}`, { cause: e });
      }
    }
    expect(n).toBeGreaterThan(500);
  });
});
