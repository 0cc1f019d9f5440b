// SCCP unitdata (UDT, Q.713 §4.10) with called/calling party addresses that
// route on global title (GTI 4: translation type, numbering plan, encoding
// scheme, nature of address) and carry the subsystem number.
import type { Writer } from '../../protocols/decode/byteWriter.ts';

export const SCCP_UDT = 0x09;
/** Protocol class 0, "return message on error" (Q.713 §3.6). */
const CLASS0_RETURN = 0x80;
/** Address indicator: route on GT (bit7=0), GTI=0100, SSN present, no PC. */
const AI_GT4_SSN = 0x12;

export interface SccpAddress {
  ssn: number;
  gt: string;
}

function address(w: Writer, a: SccpAddress): void {
  w.u8(5 + ((a.gt.length + 1) >> 1)); // AI, SSN, TT, NP/ES, NAI + digits
  w.u8(AI_GT4_SSN);
  w.u8(a.ssn);
  w.u8(0); // translation type unknown
  // Numbering plan E.164 (1) in the high nibble; encoding scheme BCD odd (1) / even (2).
  w.u8(0x10 | (a.gt.length & 1 ? 1 : 2));
  w.u8(0x04); // nature of address: international number
  w.tbcd(a.gt, 0);
}

/**
 * Writes the UDT header and both addresses, leaving the cursor where the
 * payload (TCAP) goes; returns the offset of the data length octet.
 */
export function beginUdt(w: Writer, called: SccpAddress, calling: SccpAddress): number {
  w.u8(SCCP_UDT);
  w.u8(CLASS0_RETURN);
  const ptrs = w.pos;
  w.pos += 3; // three one-octet pointers, patched below
  const calledAt = w.pos;
  address(w, called);
  const callingAt = w.pos;
  address(w, calling);
  const dataAt = w.pos;
  w.u8(0);
  // Each pointer counts octets from itself to the parameter's length octet.
  w.buf[ptrs] = calledAt - ptrs;
  w.buf[ptrs + 1] = callingAt - (ptrs + 1);
  w.buf[ptrs + 2] = dataAt - (ptrs + 2);
  return dataAt;
}

export function endUdt(w: Writer, dataAt: number): void {
  const len = w.pos - dataAt - 1;
  if (len > 255) throw new Error(`SCCP UDT payload of ${len} octets needs XUDT segmentation`);
  w.buf[dataAt] = len;
}
