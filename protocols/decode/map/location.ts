// Cell/location area identities (3GPP TS 23.003 §4, coded per TS 24.008
// §10.5.1.3): MCC/MNC in three TBCD octets, then LAC and CI/SAC (16 bits each).
import { DecodeError } from '../layer.ts';

export interface CellId {
  mcc: string;
  mnc: string;
  lac: number;
  /** Cell identity, or service area code when the network sent a SAI. */
  ci?: number;
}

/** Decodes a CGI/SAI (7 octets) or LAI (5 octets). */
export function decodeCellId(buf: Uint8Array, start: number, end: number): CellId {
  const n = end - start;
  if (n !== 7 && n !== 5) throw new DecodeError('map', 'malformed', `cell/location id of ${n} octets`);
  const o1 = buf[start]!;
  const o2 = buf[start + 1]!;
  const o3 = buf[start + 2]!;
  const mcc = `${o1 & 0x0f}${o1 >> 4}${o2 & 0x0f}`;
  const mnc3 = o2 >> 4;
  const mnc = `${o3 & 0x0f}${o3 >> 4}${mnc3 === 0x0f ? '' : mnc3}`;
  const id: CellId = { mcc, mnc, lac: (buf[start + 3]! << 8) | buf[start + 4]! };
  if (n === 7) id.ci = (buf[start + 5]! << 8) | buf[start + 6]!;
  return id;
}
