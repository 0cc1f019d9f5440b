// Packed BCD digit strings (low nibble first), shared by SCCP global titles,
// ISUP numbers and MAP TBCD/AddressString. Nibbles above 9 are rendered the
// way tshark renders them for each protocol, hence the alphabet argument.

/** ISUP/SCCP rendering: hex digits, 0xF (ST) shown as 'F' (as packet-isup.c does). */
export const HEX_DIGITS = '0123456789ABCDEF';
/** MAP TBCD (TS 29.002 / 24.008): 1010 '*', 1011 '#', 1100-1110 'a'-'c', 1111 filler. */
export const TBCD_DIGITS = '0123456789*#abc?';

/**
 * Decodes `count` nibbles starting at byte `start` (or, when count < 0, all
 * nibbles up to `end`, stopping at a 0xF filler in the last high nibble).
 */
export function bcdDigits(buf: Uint8Array, start: number, end: number, count: number, alphabet: string): string {
  let s = '';
  const max = (end - start) * 2;
  const n = count < 0 || count > max ? max : count;
  for (let i = 0; i < n; i++) {
    const b = buf[start + (i >> 1)]!;
    const d = i & 1 ? b >> 4 : b & 0x0f;
    if (count < 0 && d === 0x0f && i === n - 1) break; // filler after an odd digit count
    s += alphabet[d];
  }
  return s;
}

/** TBCD as in IMSI/MSISDN: stop at the first filler nibble. */
export function tbcd(buf: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    const lo = b & 0x0f;
    if (lo === 0x0f) break;
    s += TBCD_DIGITS[lo];
    const hi = b >> 4;
    if (hi === 0x0f) break;
    s += TBCD_DIGITS[hi];
  }
  return s;
}
