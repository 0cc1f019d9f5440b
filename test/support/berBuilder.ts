// Test-only BER builder for hand-built messages: tlv(0x30, tlv(0x80, hex('21')), ...).
export function tlv(tag: number, ...parts: (Buffer | number[])[]): Buffer {
  const body = Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...len]), body]);
}

export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/[\s:]/g, ''), 'hex');
}

/** TBCD digits (low nibble first, 0xF filler). */
export function tbcdBytes(digits: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < digits.length; i += 2) {
    const lo = Number.parseInt(digits[i]!, 16);
    const hi = i + 1 < digits.length ? Number.parseInt(digits[i + 1]!, 16) : 0xf;
    out.push(lo | (hi << 4));
  }
  return Buffer.from(out);
}

/** ISDN-AddressString: international E.164 (0x91) + TBCD digits. */
export function e164(digits: string): Buffer {
  return Buffer.concat([Buffer.from([0x91]), tbcdBytes(digits)]);
}
