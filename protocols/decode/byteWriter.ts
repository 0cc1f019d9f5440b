// A byte cursor over preallocated space: the generator's encoders (and the
// BER encoder) write through it so a frame is built in place, front to back,
// with lengths patched afterwards.
// No method allocates; digit strings are read with charCodeAt.

export class Writer {
  buf: Buffer;
  pos: number;

  constructor(buf: Buffer, pos = 0) {
    this.buf = buf;
    this.pos = pos;
  }

  /** Points the cursor at new space (the frame slab moves on as it fills). */
  reset(buf: Buffer, pos: number): void {
    this.buf = buf;
    this.pos = pos;
  }

  u8(v: number): void {
    this.buf[this.pos++] = v & 0xff;
  }

  u16(v: number): void {
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
  }

  u32(v: number): void {
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }

  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** ASCII/Latin-1 text (SIP is ASCII on the wire). */
  ascii(s: string): void {
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }

  zeros(n: number): void {
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }

  /** Pads with zeros to a multiple of 4 counted from `from` (SCTP, M3UA). */
  pad4(from: number): void {
    while ((this.pos - from) & 3) this.buf[this.pos++] = 0;
  }

  /**
   * Telephony BCD (TBCD, 3GPP TS 29.002 / Q.713 / Q.763): two digits an octet,
   * first digit in the low nibble, an odd count filled with `filler` in the
   * last high nibble (0xF for MAP, 0x0 for ISUP and SCCP, which flag oddness
   * elsewhere).
   */
  tbcd(digits: string, filler = 0xf): void {
    const n = digits.length;
    for (let i = 0; i < n; i += 2) {
      const lo = digits.charCodeAt(i) - 48;
      const hi = i + 1 < n ? digits.charCodeAt(i + 1) - 48 : filler;
      this.buf[this.pos++] = (hi << 4) | lo;
    }
  }
}
