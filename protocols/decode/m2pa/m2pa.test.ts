// M2PA (RFC 4165) + MTP3 (Q.704): hand-built messages and the M2PA capture's
// MTP3 routing labels against tshark.
import { describe, expect, it } from 'vitest';
import { capture, haveCaptures, haveTshark } from '../../../test/support/captures.ts';
import { hex } from '../../../test/support/hex.ts';
import { sctpUserMessages } from '../../../test/support/sctpUserMessages.ts';
import { oracleNote, tsharkFields } from '../../../test/support/tsharkFields.ts';
import { decodeMtp3 } from '../mtp3/mtp3.ts';
import { decodeM2pa } from './m2pa.ts';

function m2pa(type: number, data: Buffer): Buffer {
  const h = hex('01 00 0b 00 00000000 00000001 00000002');
  h[3] = type;
  h.writeUInt32BE(h.length + data.length, 4);
  return Buffer.concat([h, data]);
}

describe('M2PA / MTP3 hand-built', () => {
  it('User Data: priority octet, then SIO and ITU routing label', () => {
    // SIO 0x83 (NI 2 national, SI 3); label: DPC 4536 (0x11b8), OPC 3, SLS 0 → LE of (0<<28 | 3<<14 | 0x11b8) = 0x0000d1b8.
    const m = decodeM2pa(m2pa(1, hex('00 83 b8d10000 09')));
    expect(m).toMatchObject({ kind: 'data', transfer: { si: 3, ni: 2, dpc: 4536, opc: 3, sls: 0 } });
  });
  it('Link Status and empty User Data are not traffic', () => {
    expect(decodeM2pa(m2pa(2, hex('00000001')))).toEqual({ kind: 'other', typeName: 'linkStatus' });
    expect(decodeM2pa(m2pa(1, Buffer.alloc(0)))).toEqual({ kind: 'other', typeName: 'emptyUserData' });
  });
  it('MTP3: 14-bit point codes and 4-bit SLS from the 32-bit little-endian label', () => {
    const t = decodeMtp3(hex('c5 ffff ffff'));
    expect(t).toMatchObject({ ni: 3, si: 5, dpc: 0x3fff, opc: 0x3fff, sls: 15 });
    expect(() => decodeMtp3(hex('c5 ffff'))).toThrow(/truncated/);
  });
  it('refuses wrong class/version/type', () => {
    const ok = m2pa(1, hex('00 83 b8d10000'));
    const bad = Buffer.from(ok);
    bad[2] = 1;
    expect(() => decodeM2pa(bad)).toThrow(/malformed/);
    const badType = Buffer.from(ok);
    badType[3] = 9;
    expect(() => decodeM2pa(badType)).toThrow(/unknown/);
  });
});

describe.skipIf(!haveCaptures || !haveTshark)(`M2PA vs tshark${oracleNote}`, () => {
  it('map-sms-m2pa.pcap: every MSU routing label and service indicator', () => {
    const rows = tsharkFields(capture('ss7/map-sms-m2pa.pcap'), 'mtp3', [
      'mtp3.opc',
      'mtp3.dpc',
      'mtp3.service_indicator',
      'mtp3.network_indicator',
      'mtp3.sls',
    ]);
    const ours = sctpUserMessages(capture('ss7/map-sms-m2pa.pcap'))
      .map((u) => ({ frame: u.frame, m: decodeM2pa(u.payload) }))
      .filter((x) => x.m.kind === 'data');
    expect(ours.map((x) => x.frame)).toEqual(rows.map((r) => r.frame));
    ours.forEach(({ m }, i) => {
      if (m.kind !== 'data') return;
      expect([m.transfer.opc, m.transfer.dpc, m.transfer.si, m.transfer.ni, m.transfer.sls]).toEqual(rows[i]!.fields.map((f) => Number(f[0])));
    });
  });
});
