// MTP3 MSU (ITU-T Q.704): SIO octet, 32-bit little-endian routing label with
// 14-bit DPC/OPC and 4-bit SLS, then the signalling information field.
import { need } from '../layer.ts';

/** MTP3-level routing info plus the user part bytes, common to M3UA and M2PA/MTP3. */
export interface Mtp3Transfer {
  opc: number;
  dpc: number;
  si: number;
  ni: number;
  mp: number;
  sls: number;
  data: Buffer;
}

/** Service indicators (Q.704 §14.2.1): 0-2 are MTP's own management traffic. */
export const SI_SNM = 0;
export const SI_SNT = 1;
export const SI_SNT_SPECIAL = 2;
export const SI_SCCP = 3;
export const SI_TUP = 4;
export const SI_ISUP = 5;

/** Decodes SIO + ITU routing label; `layer` lets M3UA draft-6 report errors as its own. */
export function decodeMtp3(buf: Buffer, layer = 'mtp3'): Mtp3Transfer {
  need(layer, buf, 0, 5, 'SIO and routing label');
  const sio = buf[0]!;
  const label = buf.readUInt32LE(1);
  return {
    si: sio & 0x0f,
    ni: sio >> 6,
    mp: (sio >> 4) & 0x03, // national-use priority bits
    dpc: label & 0x3fff,
    opc: (label >>> 14) & 0x3fff,
    sls: label >>> 28,
    data: buf.subarray(5),
  };
}
