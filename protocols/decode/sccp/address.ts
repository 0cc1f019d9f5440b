// SCCP called/calling party address (ITU-T Q.713 §3.4): address indicator,
// optional 14-bit point code, optional SSN, optional global title (GTI 1-4).
import { DecodeError } from '../layer.ts';
import * as bcd from '../ber/bcd.ts';

// Bound once: tsx accesses imported bindings through getters.
const { bcdDigits, HEX_DIGITS } = bcd;

const LAYER = 'sccp';

interface GlobalTitle {
  digits: string;
  gti: number;
  tt?: number;
  np?: number;
  nai?: number;
}

export interface SccpAddress {
  /** Routing indicator: route on global title or on SSN (+ point code). */
  route: 'gt' | 'ssn';
  pc?: number;
  ssn?: number;
  gt?: GlobalTitle;
}

/** Decodes the address in buf[start, end) (the parameter contents, without its length octet). */
export function decodeSccpAddress(buf: Uint8Array, start: number, end: number): SccpAddress {
  if (end <= start) throw new DecodeError(LAYER, 'malformed', 'empty address');
  const ai = buf[start]!;
  let p = start + 1;
  const addr: SccpAddress = { route: ai & 0x40 ? 'ssn' : 'gt' };
  if (ai & 0x01) {
    if (p + 2 > end) throw new DecodeError(LAYER, 'truncated', 'address point code');
    addr.pc = (buf[p]! | (buf[p + 1]! << 8)) & 0x3fff;
    p += 2;
  }
  if (ai & 0x02) {
    if (p + 1 > end) throw new DecodeError(LAYER, 'truncated', 'address SSN');
    addr.ssn = buf[p++]!;
  }
  const gti = (ai >> 2) & 0x0f;
  if (gti === 0) return addr;
  let odd = false;
  let known = true; // whether the digit count is known from an odd/even indicator
  const gt: GlobalTitle = { digits: '', gti };
  const headerLen = gti === 1 ? 1 : gti === 2 ? 1 : gti === 3 ? 2 : gti === 4 ? 3 : -1;
  if (headerLen < 0) throw new DecodeError(LAYER, 'unsupported', `global title indicator ${gti}`);
  if (p + headerLen > end) throw new DecodeError(LAYER, 'truncated', `GT header (GTI ${gti})`);
  if (gti === 1) {
    odd = (buf[p]! & 0x80) !== 0;
    gt.nai = buf[p]! & 0x7f;
  } else if (gti === 2) {
    gt.tt = buf[p]!;
    known = false;
  } else {
    gt.tt = buf[p]!;
    gt.np = buf[p + 1]! >> 4;
    const es = buf[p + 1]! & 0x0f;
    if (es === 1) odd = true;
    else if (es !== 2) known = false; // 0 unknown, 3 national-specific: no BCD digit count
    if (gti === 4) gt.nai = buf[p + 2]! & 0x7f;
  }
  p += headerLen;
  const nibbles = known ? (end - p) * 2 - (odd ? 1 : 0) : -1;
  gt.digits = bcdDigits(buf, p, end, nibbles, HEX_DIGITS);
  addr.gt = gt;
  return addr;
}
