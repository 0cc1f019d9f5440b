// The SS7 entry point: routing by PPID and SI, management counted and
// skipped, non-MAP TCAP and parameter errors reported without losing the
// component.
import { describe, expect, it } from 'vitest';
import { capturesNote } from '../../test/support/tsharkFields.ts';
import { capture, haveCaptures } from '../../test/support/captures.ts';
import { sctpUserMessages } from '../../test/support/sctpUserMessages.ts';
import { hex } from '../../test/support/hex.ts';
import { tbcdBytes, tlv } from './ber/encode.ts';
import { DecodeError } from './layer.ts';
import { Ss7Dissector, PPID_M3UA } from './ss7Dissector.ts';

const meta = { timeNs: 0n, frame: 1 };

/** M3UA DATA carrying `sccp` as SI 3 from OPC 1 to DPC 2. */
function m3uaData(si: number, user: Buffer): Buffer {
  const pd = Buffer.concat([hex('00000001 00000002'), Buffer.from([si, 2, 0, 0]), user]);
  const plen = 4 + pd.length;
  const pad = (4 - (plen % 4)) % 4;
  const p = Buffer.concat([hex('0210'), Buffer.from([plen >> 8, plen & 0xff]), pd, Buffer.alloc(pad)]);
  const h = hex('01000101 00000000');
  h.writeUInt32BE(8 + p.length, 4);
  return Buffer.concat([h, p]);
}
/** UDT between SSN `cd` and `cg` (route on SSN, no PC). */
function udt(cd: number, cg: number, data: Buffer): Buffer {
  return Buffer.concat([hex('09 80 03 05 07 02 42'), Buffer.from([cd, 2, 0x42, cg, data.length]), data]);
}

describe('Ss7Dissector', () => {
  it('reports a TCAP message without components as protocol tcap', () => {
    const d = new Ss7Dissector();
    const out = d.decode(m3uaData(3, udt(6, 7, tlv(0x64, tlv(0x49, [1, 2, 3, 4])))), PPID_M3UA, meta);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ protocol: 'tcap', opc: 1, dpc: 2, si: 3, tcap: { type: 'end', dtid: '01020304' } });
    expect(out[0]!.sccp!.called).toEqual({ route: 'ssn', ssn: 6 });
  });

  it('one message per component; MAP recognised by SSN when there is no dialogue portion', () => {
    const comps = tlv(0x6c, tlv(0xa1, tlv(0x02, [1]), tlv(0x02, [56]), tlv(0x04, tbcdBytes('001010123456789'))), tlv(0xa2, tlv(0x02, [0])));
    const d = new Ss7Dissector();
    const out = d.decode(m3uaData(3, udt(6, 7, tlv(0x65, tlv(0x48, [1]), tlv(0x49, [2]), comps))), PPID_M3UA, meta);
    expect(out.map((m) => [m.protocol, m.map?.kind, m.map?.operation])).toEqual([
      ['map', 'invoke', 'sendAuthenticationInfo'],
      ['map', 'result', undefined],
    ]);
    expect(out[0]!.map!.params.imsi).toBe('001010123456789');
  });

  it('TCAP between non-MAP SSNs (e.g. CAP on 146) is reported as tcap with the bare component', () => {
    const comps = tlv(0x6c, tlv(0xa1, tlv(0x02, [1]), tlv(0x02, [0])));
    const out = new Ss7Dissector().decode(m3uaData(3, udt(146, 146, tlv(0x62, tlv(0x48, [1]), comps))), PPID_M3UA, meta);
    expect(out[0]).toMatchObject({ protocol: 'tcap', component: { kind: 'invoke', invokeId: 1, opCode: 0 } });
  });

  it('keeps a MAP component whose parameter is malformed, flagged with paramError', () => {
    const comps = tlv(0x6c, tlv(0xa1, tlv(0x02, [1]), tlv(0x02, [2]), tlv(0x30, tlv(0x04, [0x21]))));
    const d = new Ss7Dissector();
    const out = d.decode(m3uaData(3, udt(6, 7, tlv(0x62, tlv(0x48, [1]), comps))), PPID_M3UA, meta);
    expect(out[0]).toMatchObject({ protocol: 'map', paramError: 'map.malformed', map: { operation: 'updateLocation', params: {} } });
    expect(d.stats['map.malformed']).toBe(1);
  });

  it('counts management and refuses what it does not decode with DecodeError', () => {
    const d = new Ss7Dissector();
    expect(d.decode(hex('01000301 00000008'), PPID_M3UA, meta)).toEqual([]); // ASPUP
    expect(d.decode(m3uaData(0, hex('00')), PPID_M3UA, meta)).toEqual([]); // SNM
    expect({ ...d.stats }).toEqual({ 'm3ua.aspsm.ASPUP': 1, 'mtp3.management.si0': 1 });
    expect(() => d.decode(hex('00'), 46, meta)).toThrow(DecodeError);
    // PPID 0 (unspecified): M3UA recognised by its header.
    expect(d.decode(hex('01000301 00000008'), 0, meta)).toEqual([]);
    expect(d.stats['m3ua.aspsm.ASPUP']).toBe(2);
    expect(() => d.decode(m3uaData(9, hex('00')), PPID_M3UA, meta)).toThrow(/mtp3: unsupported/);
    expect(() => d.decode(m3uaData(3, udt(254, 254, hex('000102'))), PPID_M3UA, meta)).toThrow(/not TCAP/);
  });

  it.skipIf(!haveCaptures)(`map-sms-m2pa: MTP3 link tests and empty M2PA user data counted; segments held then reassembled${capturesNote}`, () => {
    const d = new Ss7Dissector();
    const out = sctpUserMessages(capture('ss7/map-sms-m2pa.pcap')).flatMap((u) => d.decode(u.payload, u.ppid, u));
    // tshark: SLTM/SLTA in frames 6, 7, 25, 26, 38, 39 (SI 1).
    expect(d.stats['mtp3.management.si1']).toBe(6);
    expect(d.stats['sccp.segment']).toBe(3); // first segments 14, 29, 43
    expect(d.stats['sccp.returnedSegment']).toBe(6); // XUDTS 18, 21, 33, 35, 47, 49
    expect(out.filter((m) => m.protocol === 'sccp').every((m) => m.sccp!.returnCause === 'errorInMessageTransport')).toBe(true);
    expect(d.reassembler.size).toBe(0);
  });
});
