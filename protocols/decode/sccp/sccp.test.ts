// SCCP: addresses and messages hand-built per Q.713, XUDT reassembly, and
// the captures' called/calling addresses against tshark.
import { describe, expect, it } from 'vitest';
import { capture, haveCaptures, haveTshark } from '../../../test/support/captures.ts';
import { sctpUserMessages } from '../../../test/support/sctpUserMessages.ts';
import { oracleNote, tsharkFields } from '../../../test/support/tsharkFields.ts';
import { hex } from '../../../test/support/hex.ts';
import { DecodeError } from '../layer.ts';
import { decodeM3ua } from '../m3ua/m3ua.ts';
import { decodeM2pa } from '../m2pa/m2pa.ts';
import { decodeSccpAddress } from './address.ts';
import { decodeSccp } from './sccp.ts';
import { SccpReassembler } from './reassembly.ts';
import { MAP_FIXTURE, fixtureLog, fixtureNetwork, fixturePath, tsharkNote } from '../../../test/support/fixtures.ts';

const addr = (h: string) => {
  const b = hex(h);
  return decodeSccpAddress(b, 0, b.length);
};

describe('SCCP addresses (Q.713 §3.4)', () => {
  it('SSN + PC, route on SSN, no GT', () => {
    // AI 0x43: RI=SSN, GTI 0, SSN and PC present; PC 0x0102 little-endian; SSN 6.
    expect(addr('43 0201 06')).toEqual({ route: 'ssn', pc: 0x0102, ssn: 6 });
  });
  it('GTI 1: odd/even + nature of address', () => {
    // AI 0x06: RI=GT, GTI 1, SSN; SSN 8; NAI 4 odd → 0x84; digits 12345.
    expect(addr('06 08 84 2143 f5')).toEqual({ route: 'gt', ssn: 8, gt: { gti: 1, nai: 4, digits: '12345' } });
    expect(addr('06 08 04 2143')).toEqual({ route: 'gt', ssn: 8, gt: { gti: 1, nai: 4, digits: '1234' } });
  });
  it('GTI 2: translation type only, digits to the end', () => {
    expect(addr('0a 07 0a 2143')).toEqual({ route: 'gt', ssn: 7, gt: { gti: 2, tt: 10, digits: '1234' } });
  });
  it('GTI 3: TT + numbering plan + encoding scheme (odd)', () => {
    expect(addr('0e 06 00 11 2143 05')).toEqual({ route: 'gt', ssn: 6, gt: { gti: 3, tt: 0, np: 1, digits: '12345' } });
  });
  it('GTI 4: TT, NP/ES (even), NAI, with PC', () => {
    expect(addr('11 b80d 00 12 04 1932 5476')).toEqual({ route: 'gt', pc: 0x0db8, gt: { gti: 4, tt: 0, np: 1, nai: 4, digits: '91234567' } });
  });
  it('rejects truncated and reserved encodings', () => {
    expect(() => addr('43 02')).toThrow(DecodeError);
    expect(() => addr('12 00')).toThrow(DecodeError);
    expect(() => addr('16 00')).toThrow(/unsupported/); // GTI 5
  });
});

// UDT: type, class, 3 pointers, called, calling, data.
const UDT = hex('09 80 03 05 07 02 4206 02 4207 03 aabbcc');

describe('SCCP messages', () => {
  it('UDT pointers, addresses and data', () => {
    const m = decodeSccp(UDT);
    expect(m.typeName).toBe('UDT');
    expect(m.protocolClass).toBe(0);
    expect(m.called).toEqual({ route: 'ssn', ssn: 6 });
    expect(m.calling).toEqual({ route: 'ssn', ssn: 7 });
    expect(m.data.toString('hex')).toBe('aabbcc');
  });
  it('UDTS return cause', () => {
    const m = decodeSccp(hex('0a 01 03 05 07 02 4206 02 4207 01 ff'));
    expect(m.returnCause).toBe(1);
  });
  it('XUDT with segmentation parameter', () => {
    // XUDT, class 0x81, hop 15, ptrs 4/6/8/(opt) ...
    const m = decodeSccp(xudt(true, 1, 0x0a0b0c, 'c0ffee'));
    expect(m.segmentation).toEqual({ first: true, inSequence: true, remaining: 1, localRef: 0x0a0b0c });
    expect(m.data.toString('hex')).toBe('c0ffee');
  });
  it('LUDT with two-octet pointers and long data length', () => {
    const data = Buffer.alloc(300, 7);
    const head = hex('13 00 0f 0800 0900 0a00 0000');
    const b = Buffer.concat([head, hex('02 4206 02 4207'), Buffer.from([300 & 0xff, 300 >> 8]), data]);
    // pointers are relative to their own position: called at 3+8=11, calling at 5+9=14, data at 7+10=17.
    const m = decodeSccp(b);
    expect(m.typeName).toBe('LUDT');
    expect(m.data.length).toBe(300);
  });
  it('connection-oriented messages are unsupported, bad pointers truncated/malformed', () => {
    expect(() => decodeSccp(hex('06 000000'))).toThrow(/unsupported/);
    expect(() => decodeSccp(hex('09 80 03 05 40 02 4206 02 4207'))).toThrow(DecodeError);
    expect(() => decodeSccp(hex('09 80 00 05 07'))).toThrow(/malformed/);
    expect(() => decodeSccp(hex('ee'))).toThrow(/unknown/);
  });
});

function xudt(first: boolean, remaining: number, ref: number, data: string, calling = '4207'): Buffer {
  const d = hex(data);
  const cg = hex(calling);
  const called = hex('4206');
  // Fixed: type, class, hop; pointers at 3,4,5,6.
  const body = Buffer.concat([
    Buffer.from([called.length]),
    called,
    Buffer.from([cg.length]),
    cg,
    Buffer.from([d.length]),
    d,
    Buffer.from([0x10, 4, (first ? 0x80 : 0) | 0x40 | remaining, ref >> 16, (ref >> 8) & 0xff, ref & 0xff, 0x00]),
  ]);
  const pCalled = 4;
  const pCalling = 3 + 1 + called.length;
  const pData = 2 + 2 + called.length + cg.length;
  const pOpt = 1 + 3 + called.length + cg.length + d.length;
  return Buffer.concat([Buffer.from([0x11, 0x81, 0x0f, pCalled, pCalling, pData, pOpt]), body]);
}

describe('XUDT reassembly (Q.714 §4.1.1.2)', () => {
  const seg = (first: boolean, remaining: number, ref: number) => ({ first, inSequence: true, remaining, localRef: ref });

  it('joins three segments arriving out of order, keyed by local reference and calling address', () => {
    const r = new SccpReassembler();
    const cg = hex('4207');
    expect(r.add(1, cg, seg(false, 1, 5), hex('bb'), 0n)).toBeUndefined();
    expect(r.add(1, cg, seg(true, 2, 5), hex('aa'), 1n)).toBeUndefined();
    // Same reference from another calling address is a different message.
    expect(r.add(1, hex('4208'), seg(false, 0, 5), hex('ff'), 2n)).toBeUndefined();
    expect(r.add(1, cg, seg(false, 0, 5), hex('cc'), 3n)!.toString('hex')).toBe('aabbcc');
    expect(r.size).toBe(1);
    expect(r.stats.completed).toBe(1);
  });

  it('expires partial messages on message time, evicts beyond maxPending, drops oversized', () => {
    const r = new SccpReassembler({ timeoutNs: 10n, maxPending: 2, maxBytes: 4 });
    const cg = hex('4207');
    r.add(1, cg, seg(true, 1, 1), hex('aa'), 0n);
    r.add(1, cg, seg(true, 1, 2), hex('aa'), 5n);
    r.add(1, cg, seg(true, 1, 3), hex('aa'), 6n); // evicts ref 1
    expect(r.stats.evicted).toBe(1);
    // Ref 1 is gone, so its last segment starts a new partial (evicting ref 2).
    expect(r.add(1, cg, seg(false, 0, 1), hex('bb'), 7n)).toBeUndefined();
    expect(r.stats.evicted).toBe(2);
    r.expire(17n); // ref 3 (t=6) is older than 10 ns; ref 1 (t=7) is not
    expect(r.stats.expired).toBe(1);
    expect(r.size).toBe(1);
    r.expire(18n);
    expect(r.size).toBe(0);
    expect(r.add(1, cg, seg(true, 1, 9), hex('aabbccdd'), 20n)).toBeUndefined();
    expect(r.add(1, cg, seg(false, 0, 9), hex('ee'), 21n)).toBeUndefined();
    expect(r.stats.oversized).toBe(1);
  });

  it('reassembles XUDT messages built by hand through decodeSccp', () => {
    const r = new SccpReassembler();
    const parts = [xudt(true, 1, 0x42, '0102'), xudt(false, 0, 0x42, '0304')].map(decodeSccp);
    const out = parts.map((p) => r.add(0, p.callingRaw, p.segmentation!, p.data, 0n));
    expect(out[0]).toBeUndefined();
    expect(out[1]!.toString('hex')).toBe('01020304');
  });
});

function addressesMatchTshark(file: string): void {
  const rows = tsharkFields(file, 'sccp', [
    'sccp.message_type',
    'sccp.called.ssn',
    'sccp.called.digits',
    'sccp.calling.ssn',
    'sccp.calling.digits',
    'sccp.segmentation.remaining',
    'sccp.called.gti',
    'sccp.called.tt',
    'sccp.called.np',
    'sccp.called.nai',
  ]);
  const ours = new Map<number, ReturnType<typeof decodeSccp>>();
  for (const u of sctpUserMessages(file)) {
    const t = u.ppid === 3 ? decodeM3ua(u.payload) : decodeM2pa(u.payload);
    if (t.kind === 'data' && t.transfer.si === 3) ours.set(u.frame, decodeSccp(t.transfer.data));
  }
  expect([...ours.keys()]).toEqual(rows.map((r) => r.frame));
  for (const { frame, fields } of rows) {
    const m = ours.get(frame)!;
    const [type, cdSsn, cdDigits, cgSsn, cgDigits, remaining, gti, tt, np, nai] = fields.map((f) => f[0]);
    expect(m.type, `frame ${frame}`).toBe(Number(type));
    expect(m.called.ssn).toBe(Number(cdSsn));
    expect(m.called.gt?.digits).toBe(cdDigits);
    expect(m.calling.ssn).toBe(Number(cgSsn));
    expect(m.calling.gt?.digits).toBe(cgDigits);
    expect(m.segmentation?.remaining).toBe(remaining === undefined ? undefined : Number(remaining));
    expect([m.called.gt?.gti, m.called.gt?.tt, m.called.gt?.np, m.called.gt?.nai]).toEqual([Number(gti), Number(tt), Number(np), Number(nai)]);
  }
}

describe.skipIf(!haveCaptures || !haveTshark)(`SCCP vs tshark${oracleNote}`, () => {
  for (const rel of ['ss7/map-location-update-m3ua.pcap', 'ss7/map-lu-ati-m3ua.pcap', 'ss7/map-gprs-attach-m3ua.pcap', 'ss7/map-sms-m2pa.pcap']) {
    it(`${rel}: message type, called/calling SSN and GT digits, segmentation`, () => {
      addressesMatchTshark(capture(rel));
    });
  }
});

describe.skipIf(!haveTshark)(`SCCP vs tshark on the generated fixture${tsharkNote}`, () => {
  it(`${MAP_FIXTURE}: message type, called/calling SSN and GT digits`, () => addressesMatchTshark(fixturePath(MAP_FIXTURE)));
});

describe('SCCP on the generated fixture, against the generator', () => {
  /** Operations the generator addresses to the HLR (the others go HLR → VLR/SGSN or MSC → SMSC/MSC). */
  const TO_HLR = new Set([
    'updateLocation',
    'sendAuthenticationInfo',
    'purgeMS',
    'updateGprsLocation',
    'sendRoutingInfo',
    'sendRoutingInfoForSM',
    'anyTimeInterrogation',
  ]);

  it(`${MAP_FIXTURE}: one UDT per packet, routed on the generator's global titles and subsystem numbers; HLR operations reach the HLR`, () => {
    const net = fixtureNetwork();
    const gts = new Set([...net.nodes.map((n) => n.gt), ...net.mscs.map((_, k) => net.vlrNumber(k))]);
    const ssns = new Set([6, 7, 8, 147, 149]);
    const log = fixtureLog(MAP_FIXTURE);
    const ours = sctpUserMessages(fixturePath(MAP_FIXTURE)).map((u) => {
      const t = decodeM3ua(u.payload);
      if (t.kind !== 'data') throw new Error(`frame ${u.frame}: not M3UA DATA`);
      return decodeSccp(t.transfer.data);
    });
    expect(ours).toHaveLength(log.length);
    ours.forEach((m, i) => {
      const [op, kind] = log[i]!.meta.message.split('.') as [string, string];
      expect(m.typeName, `record ${i}`).toBe('UDT');
      expect(m.segmentation).toBeUndefined();
      for (const a of [m.called, m.calling]) {
        expect(a.route).toBe('gt');
        expect(gts).toContain(a.gt?.digits);
        expect(ssns).toContain(a.ssn);
      }
      if (TO_HLR.has(op)) {
        const hlr = kind === 'invoke' ? m.called : m.calling;
        expect([hlr.ssn, hlr.gt?.digits], `record ${i}: ${log[i]!.meta.message}`).toEqual([6, net.hlr.gt]);
      }
    });
  });
});
