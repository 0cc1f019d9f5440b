// ISUP number parameters (ITU-T Q.763 §3.9 called, §3.10 calling, and the
// same layout for redirecting/original called/connected/location numbers):
// odd/even + nature of address, then INN/NI + numbering plan (+ presentation
// and screening for calling-type numbers), then BCD address signals.
import { DecodeError } from '../layer.ts';
import { bcdDigits, HEX_DIGITS } from '../ber/bcd.ts';

export interface IsupNumber {
  /** Address signals as tshark shows them: 0-9, and hex letters (e.g. 'F' = ST). */
  digits: string;
  nai: number;
  np: number;
  /** Calling-type numbers: address presentation restricted indicator (0 allowed, 1 restricted, 2 not available). */
  presentation?: number;
  /** Calling-type numbers: screening indicator. */
  screening?: number;
}

/** `calling` selects the layout with presentation/screening bits in octet 2. */
export function decodeIsupNumber(buf: Uint8Array, start: number, end: number, calling: boolean): IsupNumber {
  if (end - start < 2) throw new DecodeError('isup', 'malformed', `number parameter of ${end - start} octets`);
  const o1 = buf[start]!;
  const o2 = buf[start + 1]!;
  const odd = (o1 & 0x80) !== 0;
  const nibbles = (end - start - 2) * 2 - (odd ? 1 : 0);
  const n: IsupNumber = {
    digits: bcdDigits(buf, start + 2, end, nibbles < 0 ? 0 : nibbles, HEX_DIGITS),
    nai: o1 & 0x7f,
    np: (o2 >> 4) & 0x07,
  };
  if (calling) {
    n.presentation = (o2 >> 2) & 0x03;
    n.screening = o2 & 0x03;
  }
  return n;
}
