// BER TLV writing (X.690) for TCAP and MAP: the generator's encoders and the
// decoders' tests build with it. Constructed values are opened,
// filled, then closed: the length octet is reserved as one byte and widened
// in place (content shifted right) only when it outgrows the short form, which
// in signalling payloads is rare. Tags here are all single-octet.
import { Writer } from '../byteWriter.ts';

export class BerWriter extends Writer {
  // Offsets of reserved length octets for open constructed values.
  private readonly open = new Int32Array(32);
  private depth = 0;

  /** Starts a constructed value (tag already carries the 0x20 bit). */
  begin(tag: number): void {
    this.u8(tag);
    this.open[this.depth++] = this.pos;
    this.u8(0);
  }

  /** Ends the innermost constructed value and patches its length. */
  end(): void {
    const at = this.open[--this.depth]!;
    const len = this.pos - at - 1;
    if (len < 0x80) {
      this.buf[at] = len;
      return;
    }
    const extra = len < 0x100 ? 1 : 2;
    this.buf.copyWithin(at + 1 + extra, at + 1, this.pos);
    this.pos += extra;
    this.buf[at] = 0x80 | extra;
    if (extra === 1) this.buf[at + 1] = len;
    else {
      this.buf[at + 1] = len >>> 8;
      this.buf[at + 2] = len & 0xff;
    }
  }

  /** Primitive OCTET STRING-like value from raw bytes. */
  octets(tag: number, b: Uint8Array): void {
    this.u8(tag);
    this.u8(b.length);
    this.bytes(b);
  }

  /** Non-negative INTEGER/ENUMERATED in the fewest octets (two's complement). */
  int(tag: number, v: number): void {
    this.u8(tag);
    if (v < 0x80) {
      this.u8(1);
      this.u8(v);
    } else if (v < 0x8000) {
      this.u8(2);
      this.u16(v);
    } else {
      this.u8(4);
      this.u32(v);
    }
  }

  null(tag: number): void {
    this.u8(tag);
    this.u8(0);
  }

  /** TBCD digit string, e.g. IMSI (29.002 TBCD-STRING). */
  tbcdString(tag: number, digits: string): void {
    this.u8(tag);
    this.u8((digits.length + 1) >> 1);
    this.tbcd(digits, 0xf);
  }

  /**
   * AddressString / ISDN-AddressString (29.002 §17.7.8): one octet
   * ext=1 | nature of address | numbering plan, then TBCD digits.
   * 0x91 = international number, ISDN/E.164 plan.
   */
  address(tag: number, digits: string, natureAndPlan = 0x91): void {
    this.u8(tag);
    this.u8(1 + ((digits.length + 1) >> 1));
    this.u8(natureAndPlan);
    this.tbcd(digits, 0xf);
  }
}

/** One TLV around already-encoded parts, for hand-built messages: tlv(0x30, tlv(0x80, hex('21')), ...). */
export function tlv(tag: number, ...parts: (Uint8Array | number[])[]): Buffer {
  const body = Buffer.concat(parts.map((p) => (p instanceof Uint8Array ? p : Buffer.from(p))));
  const w = new BerWriter(Buffer.alloc(body.length + 4));
  w.begin(tag);
  w.bytes(body);
  w.end();
  return w.buf.subarray(0, w.pos);
}

/** TBCD digits (low nibble first, 0xF filler), the value of a TBCD-STRING. */
export function tbcdBytes(digits: string): Buffer {
  const w = new Writer(Buffer.alloc((digits.length + 1) >> 1));
  w.tbcd(digits, 0xf);
  return w.buf;
}

/** ISDN-AddressString value: international E.164 (0x91) + TBCD digits. */
export function e164(digits: string): Buffer {
  return Buffer.concat([Buffer.from([0x91]), tbcdBytes(digits)]);
}
