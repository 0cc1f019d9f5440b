// M3UA (RFC 4666 and draft 6): hand-built messages per the RFC's figures,
// and the captures' routing labels against tshark.
import { describe, expect, it } from 'vitest';
import { capture, haveCaptures, haveTshark } from '../../../test/support/captures.ts';
import { hex } from '../../../test/support/hex.ts';
import { DecodeError } from '../layer.ts';
import { sctpUserMessages } from '../../../test/support/sctpUserMessages.ts';
import { oracleNote, tsharkFields } from '../../../test/support/tsharkFields.ts';
import { decodeM3ua } from './m3ua.ts';
import { ISUP_FIXTURE, MAP_FIXTURE, fixtureLog, fixtureNetwork, fixturePath, tsharkNote } from '../../../test/support/fixtures.ts';

function m3ua(cls: number, type: number, params: Buffer[]): Buffer {
  const body = Buffer.concat(params);
  const h = Buffer.alloc(8);
  h.writeUInt8(1, 0);
  h.writeUInt8(cls, 2);
  h.writeUInt8(type, 3);
  h.writeUInt32BE(8 + body.length, 4);
  return Buffer.concat([h, body]);
}
function param(tag: number, value: Buffer): Buffer {
  const len = 4 + value.length;
  const pad = (4 - (len % 4)) % 4;
  const b = Buffer.alloc(len + pad);
  b.writeUInt16BE(tag, 0);
  b.writeUInt16BE(len, 2);
  value.copy(b, 4);
  return b;
}

describe('M3UA hand-built', () => {
  it('DATA: routing context, then protocol data OPC/DPC/SI/NI/MP/SLS and user data', () => {
    const pd = Buffer.concat([hex('00001234 00000abc 03 02 00 0b'), hex('0980030507')]);
    const m = decodeM3ua(m3ua(1, 1, [param(0x0006, hex('00000001')), param(0x0210, pd)]));
    expect(m.kind).toBe('data');
    if (m.kind !== 'data') return;
    expect(m.draft6).toBe(false);
    const { data, ...label } = m.transfer;
    expect(label).toEqual({ opc: 0x1234, dpc: 0xabc, si: 3, ni: 2, mp: 0, sls: 11 });
    expect(data.toString('hex')).toBe('0980030507');
  });
  it('draft 6: Protocol Data 2 with a leading MTP2 LI octet', () => {
    // LI, SIO 0x85 (NI 2, SI 5), label DPC 1, OPC 2, SLS 3 → 0x30008001 LE.
    const msu = hex('3f 85 01800030 aa');
    const m = decodeM3ua(m3ua(1, 1, [param(0x0003, msu)]));
    expect(m).toMatchObject({ kind: 'data', draft6: true, transfer: { si: 5, ni: 2, dpc: 1, opc: 2, sls: 3 } });
  });
  it('names management classes so they can be counted', () => {
    expect(decodeM3ua(m3ua(3, 3, [param(0x0009, hex('01'))]))).toEqual({ kind: 'other', className: 'aspsm', typeName: 'BEAT' });
    expect(decodeM3ua(m3ua(2, 1, []))).toEqual({ kind: 'other', className: 'ssnm', typeName: 'DUNA' });
  });
  it('throws DecodeError on bad version, class, lengths', () => {
    const ok = m3ua(3, 1, []);
    expect(() => decodeM3ua(Buffer.concat([hex('02'), ok.subarray(1)]))).toThrow(/unsupported/);
    expect(() => decodeM3ua(m3ua(7, 1, []))).toThrow(/unknown/);
    expect(() => decodeM3ua(ok.subarray(0, 6))).toThrow(/truncated/);
    expect(() => decodeM3ua(m3ua(1, 1, [hex('02100002')]))).toThrow(DecodeError);
    expect(() => decodeM3ua(m3ua(1, 1, [param(0x0006, hex('00000001'))]))).toThrow(/without protocol data/);
  });
});

function labelsMatchTshark(file: string): void {
  const rows = tsharkFields(file, 'm3ua.protocol_data_opc', [
    'm3ua.protocol_data_opc',
    'm3ua.protocol_data_dpc',
    'm3ua.protocol_data_si',
    'm3ua.protocol_data_ni',
    'm3ua.protocol_data_sls',
  ]);
  const ours = sctpUserMessages(file)
    .filter((u) => u.ppid === 3)
    .map((u) => ({ frame: u.frame, m: decodeM3ua(u.payload) }))
    .filter((x) => x.m.kind === 'data');
  expect(ours.map((x) => x.frame)).toEqual(rows.map((r) => r.frame));
  ours.forEach(({ m }, i) => {
    if (m.kind !== 'data') return;
    const t = m.transfer;
    expect([t.opc, t.dpc, t.si, t.ni, t.sls]).toEqual(rows[i]!.fields.map((f) => Number(f[0])));
  });
}

describe.skipIf(!haveCaptures || !haveTshark)(`M3UA vs tshark${oracleNote}`, () => {
  for (const rel of ['ss7/map-location-update-m3ua.pcap', 'ss7/map-lu-ati-m3ua.pcap', 'ss7/map-gprs-attach-m3ua.pcap']) {
    it(`${rel}: OPC/DPC/SI/NI/SLS of every DATA`, () => {
      labelsMatchTshark(capture(rel));
    });
  }
  it('isup-call-m3ua-draft6.pcap: draft 6 detected, MTP3 label as tshark decodes it with m3ua.version:draft-6', () => {
    const rows = tsharkFields(
      capture('ss7/isup-call-m3ua-draft6.pcap'),
      'mtp3',
      ['mtp3.opc', 'mtp3.dpc', 'mtp3.service_indicator', 'mtp3.network_indicator', 'mtp3.sls'],
      ['-o', 'm3ua.version:draft-6'],
    );
    const ours = sctpUserMessages(capture('ss7/isup-call-m3ua-draft6.pcap')).map((u) => decodeM3ua(u.payload));
    expect(ours).toHaveLength(rows.length);
    ours.forEach((m, i) => {
      expect(m.kind === 'data' && m.draft6).toBe(true);
      if (m.kind !== 'data') return;
      expect([m.transfer.opc, m.transfer.dpc, m.transfer.si, m.transfer.ni, m.transfer.sls]).toEqual(rows[i]!.fields.map((f) => Number(f[0])));
    });
  });
});

describe.skipIf(!haveTshark)(`M3UA vs tshark on the generated fixtures${tsharkNote}`, () => {
  for (const f of [MAP_FIXTURE, ISUP_FIXTURE]) it(`${f}: OPC/DPC/SI/NI/SLS of every DATA`, () => labelsMatchTshark(fixturePath(f)));
});

describe('M3UA on the generated fixtures, against the generator', () => {
  const pcs = new Set(fixtureNetwork().nodes.map((n) => n.pc));
  for (const [f, si] of [
    [MAP_FIXTURE, 3],
    [ISUP_FIXTURE, 5],
  ] as const) {
    it(`${f}: one DATA per generated packet, SI ${si}, national, between the generator's point codes`, () => {
      const ours = sctpUserMessages(fixturePath(f)).map((u) => ({ ppid: u.ppid, m: decodeM3ua(u.payload) }));
      expect(ours).toHaveLength(fixtureLog(f).length);
      for (const { ppid, m } of ours) {
        expect(ppid).toBe(3);
        expect(m.kind).toBe('data');
        if (m.kind !== 'data') continue;
        expect(m.draft6).toBe(false);
        expect([m.transfer.si, m.transfer.ni]).toEqual([si, 2]);
        expect(pcs).toContain(m.transfer.opc);
        expect(pcs).toContain(m.transfer.dpc);
        expect(m.transfer.opc).not.toBe(m.transfer.dpc);
      }
    });
  }
});
