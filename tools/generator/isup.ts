// ISUP (ITU-T Q.763) call-control messages carried as MTP3 user SI=5 over
// M3UA: IAM, ACM, CPG (alerting), ANM, REL (with cause) and RLC.
import type { Writer } from '../../protocols/decode/byteWriter.ts';

export type IsupMessage = 'IAM' | 'ACM' | 'CPG' | 'ANM' | 'REL' | 'RLC';

/** Message type codes (Q.763 table 4). */
export const ISUP_TYPES: Record<IsupMessage, number> = { IAM: 0x01, ACM: 0x06, CPG: 0x2c, ANM: 0x09, REL: 0x0c, RLC: 0x10 };

/** Release causes used (Q.850). */
export const ISUP_CAUSE = { normalClearing: 16, userBusy: 17, noAnswer: 19 } as const;

const PARAM_CALLING_PARTY = 0x0a;

/** Called/calling number digits: odd/even flag with NAI international (4). */
function natureOfAddress(digits: string): number {
  return (digits.length & 1 ? 0x80 : 0) | 0x04;
}

function header(w: Writer, cic: number, type: number): void {
  // CIC: 12 bits, least significant octet first.
  w.u8(cic & 0xff);
  w.u8((cic >>> 8) & 0x0f);
  w.u8(type);
}

export function iam(w: Writer, cic: number, called: string, calling: string): void {
  header(w, cic, ISUP_TYPES.IAM);
  w.u8(0x00); // nature of connection: no satellite, no continuity check, no echo control
  w.u8(0x20); // forward call indicators: national, ISUP used all the way, ISUP preferred
  w.u8(0x01); // originating access ISDN
  w.u8(0x0a); // calling party's category: ordinary subscriber
  w.u8(0x00); // transmission medium requirement: speech
  const calledLen = 2 + ((called.length + 1) >> 1);
  w.u8(2); // pointer to called party number
  w.u8(2 + calledLen); // pointer to optional part (from this octet)
  w.u8(calledLen);
  w.u8(natureOfAddress(called));
  w.u8(0x10); // INN allowed, numbering plan E.164
  w.tbcd(called, 0);
  w.u8(PARAM_CALLING_PARTY);
  w.u8(2 + ((calling.length + 1) >> 1));
  w.u8(natureOfAddress(calling));
  w.u8(0x13); // NPI E.164, presentation allowed, screening: network provided
  w.tbcd(calling, 0);
  w.u8(0x00); // end of optional parameters
}

export function acm(w: Writer, cic: number): void {
  header(w, cic, ISUP_TYPES.ACM);
  w.u8(0x16); // backward call indicators: charge, subscriber free, ordinary subscriber
  w.u8(0x14); // ISUP used all the way, terminating access ISDN
  w.u8(0x00); // no optional part
}

export function cpgAlerting(w: Writer, cic: number): void {
  header(w, cic, ISUP_TYPES.CPG);
  w.u8(0x01); // event information: alerting
  w.u8(0x00);
}

export function anm(w: Writer, cic: number): void {
  header(w, cic, ISUP_TYPES.ANM);
  w.u8(0x00);
}

/** REL with Q.850 cause; location "public network serving the local user". */
export function rel(w: Writer, cic: number, cause: number): void {
  header(w, cic, ISUP_TYPES.REL);
  w.u8(2); // pointer to cause indicators
  w.u8(0); // no optional part
  w.u8(2);
  w.u8(0x82); // ext, ITU-T coding standard, location LN
  w.u8(0x80 | cause);
}

export function rlc(w: Writer, cic: number): void {
  header(w, cic, ISUP_TYPES.RLC);
  w.u8(0x00);
}
