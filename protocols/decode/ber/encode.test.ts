import { describe, expect, it } from 'vitest';
import { BerWriter } from './encode.ts';

const hex = (w: BerWriter): string => w.buf.subarray(0, w.pos).toString('hex');

describe('BerWriter', () => {
  it('writes nested constructed values with short-form lengths', () => {
    const w = new BerWriter(Buffer.alloc(64));
    w.begin(0x30);
    w.int(0x02, 5);
    w.begin(0xa1);
    w.null(0x80);
    w.end();
    w.end();
    expect(hex(w)).toBe('3007' + '020105' + 'a102' + '8000');
  });

  it('widens a length past 127 to 0x81 and past 255 to 0x82, keeping the content', () => {
    for (const [n, lenHex] of [
      [127, '7f'],
      [128, '8180'],
      [255, '81ff'],
      [256, '820100'],
      [1000, '8203e8'],
    ] as const) {
      const w = new BerWriter(Buffer.alloc(1100));
      w.begin(0x30);
      for (let i = 0; i < n; i++) w.u8(i & 0xff);
      w.end();
      const out = w.buf.subarray(0, w.pos);
      expect(out.subarray(0, 1 + lenHex.length / 2).toString('hex')).toBe('30' + lenHex);
      const body = out.subarray(1 + lenHex.length / 2);
      expect(body.length).toBe(n);
      expect(body[n - 1]).toBe((n - 1) & 0xff);
    }
  });

  it('widens an inner length and still patches the outer one correctly', () => {
    const w = new BerWriter(Buffer.alloc(400));
    w.begin(0x30);
    w.begin(0x04);
    for (let i = 0; i < 200; i++) w.u8(0xaa);
    w.end();
    w.end();
    // inner 04 81 c8 + 200 bytes = 203 → outer 30 81 cb
    expect(w.buf.subarray(0, 6).toString('hex')).toBe('3081cb0481c8');
    expect(w.pos).toBe(3 + 203);
  });

  it('encodes integers in the fewest two-complement octets', () => {
    const w = new BerWriter(Buffer.alloc(32));
    w.int(0x02, 0);
    w.int(0x02, 127);
    w.int(0x02, 128);
    w.int(0x02, 0x7fff);
    w.int(0x02, 0x8000);
    expect(hex(w)).toBe('020100' + '02017f' + '02020080' + '02027fff' + '020400008000');
  });

  it('encodes IMSI as TBCD with an F filler and addresses with nature/plan', () => {
    const w = new BerWriter(Buffer.alloc(32));
    w.tbcdString(0x04, '001010123456789');
    w.address(0x81, '99920001');
    expect(hex(w)).toBe('0408' + '000101214365' + '87f9' + '8105' + '91' + '99290010');
  });
});
