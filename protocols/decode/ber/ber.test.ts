// BER reader (X.690) on hand-built encodings.
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../layer.ts';
import { bcdDigits, HEX_DIGITS, tbcd } from './bcd.ts';
import { ctx, highTag, readInt, readOid, readTlv, Tlv } from './ber.ts';
import { hex } from '../../../test/support/hex.ts';

const read = (h: string) => {
  const b = hex(h);
  return readTlv('t', b, 0, b.length, new Tlv());
};

describe('readTlv', () => {
  it('short, long and indefinite lengths', () => {
    expect(read('04 02 aabb')).toMatchObject({ tag: 0x04, constructed: false, valueStart: 2, valueEnd: 4, end: 4 });
    const long = Buffer.concat([hex('30 81 80'), Buffer.alloc(128)]);
    expect(readTlv('t', long, 0, long.length, new Tlv())).toMatchObject({ tag: 0x30, valueStart: 3, valueEnd: 131 });
    // [1] constructed, indefinite, containing a nested indefinite SEQUENCE.
    expect(read('a1 80 30 80 02 01 05 00 00 04 00 00 00')).toMatchObject({ tag: 0xa1, valueStart: 2, valueEnd: 11, end: 13 });
  });
  it('high tag numbers', () => {
    const t = read('9f 2a 01 00');
    expect(t.num).toBe(42);
    expect(t.tag).toBe(highTag(0x80, 42));
    expect(ctx(42)).toBe(t.tag);
    expect(ctx(3, true)).toBe(0xa3);
  });
  it('throws DecodeError on truncation, indefinite primitive, oversize length, endless indefinite', () => {
    for (const h of ['04', '04 05 aa', '04 80 00 00', '04 85 0000000001', 'a1 80 02 01 05', '1f ff ff ff 7f 00']) {
      expect(() => read(h), h).toThrow(DecodeError);
    }
  });
  it('bounds an element by the enclosing limit, not the buffer', () => {
    const b = hex('30 03 04 05 aabbccddee');
    const outer = readTlv('t', b, 0, b.length, new Tlv());
    expect(() => readTlv('t', b, outer.valueStart, outer.valueEnd, new Tlv())).toThrow(/truncated/);
  });
});

describe('INTEGER, OID, BCD', () => {
  it('signed integers', () => {
    const b = hex('ff 0080 7f 010000');
    expect(readInt('t', b, 0, 1)).toBe(-1);
    expect(readInt('t', b, 1, 3)).toBe(128);
    expect(readInt('t', b, 3, 4)).toBe(127);
    expect(readInt('t', b, 4, 7)).toBe(65536);
    expect(() => readInt('t', b, 0, 0)).toThrow(DecodeError);
  });
  it('object identifiers (dialogue-as-id 0.0.17.773.1.1.1, MAP AC)', () => {
    const a = hex('00 11 86 05 01 01 01');
    expect(readOid('t', a, 0, a.length)).toBe('0.0.17.773.1.1.1');
    const b = hex('04 00 00 01 00 1d 03');
    expect(readOid('t', b, 0, b.length)).toBe('0.4.0.0.1.0.29.3');
    expect(() => readOid('t', hex('86'), 0, 1)).toThrow(DecodeError);
  });
  it('TBCD stops at the filler; BCD with explicit count keeps hex digits', () => {
    expect(tbcd(hex('21 43 f5'), 0, 3)).toBe('12345');
    expect(tbcd(hex('a1 b2'), 0, 2)).toBe('1*2#');
    expect(bcdDigits(hex('84 f9'), 0, 2, 4, HEX_DIGITS)).toBe('489F');
    expect(bcdDigits(hex('21 f3'), 0, 2, -1, HEX_DIGITS)).toBe('123');
  });
});
