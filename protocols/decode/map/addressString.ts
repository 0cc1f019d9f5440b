// MAP identity encodings (3GPP TS 29.002 §17.7.8, TS 23.003): IMSI as TBCD,
// (ISDN-)AddressString as one octet of extension/nature/plan then TBCD digits.
import { DecodeError } from '../layer.ts';
import { tbcd } from '../ber/bcd.ts';

export interface MapAddress {
  digits: string;
  /** Nature of address (TS 29.002 AddressString bits 7-5): 1 international, 2 national, ... */
  nai: number;
  /** Numbering plan (bits 4-1): 1 ISDN/E.164, 6 land mobile/E.212, ... */
  np: number;
}

export function decodeImsi(buf: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n < 3 || n > 8) throw new DecodeError('map', 'malformed', `IMSI of ${n} octets`);
  return tbcd(buf, start, end);
}

export function decodeAddress(buf: Uint8Array, start: number, end: number): MapAddress {
  const n = end - start;
  if (n < 1 || n > 20) throw new DecodeError('map', 'malformed', `AddressString of ${n} octets`);
  const b = buf[start]!;
  return { digits: tbcd(buf, start + 1, end), nai: (b >> 4) & 0x07, np: b & 0x0f };
}
