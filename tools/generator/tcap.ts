// TCAP (ITU-T Q.773) Begin and End messages with the dialogue portion that
// names the MAP application context (AARQ in the Begin, AARE in the End),
// and the component portion (Invoke, ReturnResultLast, ReturnError).
import type { BerWriter } from '../../protocols/decode/ber/encode.ts';

const TAG_BEGIN = 0x62;
const TAG_END = 0x64;
const TAG_CONTINUE = 0x65;
const TAG_OTID = 0x48;
const TAG_DTID = 0x49;
const TAG_DIALOGUE = 0x6b;
const TAG_EXTERNAL = 0x28;
const TAG_SINGLE_ASN1 = 0xa0;
const TAG_AARQ = 0x60;
const TAG_AARE = 0x61;
const TAG_COMPONENTS = 0x6c;
export const TAG_INVOKE = 0xa1;
export const TAG_RESULT_LAST = 0xa2;
export const TAG_RETURN_ERROR = 0xa3;

/** dialogue-as-id { itu-t recommendation q 773 as(1) dialogue-as(1) version1(1) } */
const DIALOGUE_AS_ID = Buffer.from([0x00, 0x11, 0x86, 0x05, 0x01, 0x01, 0x01]);

function tid(w: BerWriter, tag: number, id: number): void {
  w.u8(tag);
  w.u8(4);
  w.u32(id);
}

/** MAP application context OID 0.4.0.0.1.0.<ac>.<version> (29.002 §17.3.3). */
function acName(w: BerWriter, ac: number, version: number): void {
  w.u8(0x06);
  w.u8(7);
  w.u8(0x04); // 0.4 → 0*40+4
  w.u8(0x00);
  w.u8(0x00);
  w.u8(0x01);
  w.u8(0x00);
  w.u8(ac);
  w.u8(version);
}

function dialogue(w: BerWriter, ac: number, version: number, response: boolean): void {
  w.begin(TAG_DIALOGUE);
  w.begin(TAG_EXTERNAL);
  w.octets(0x06, DIALOGUE_AS_ID);
  w.begin(TAG_SINGLE_ASN1);
  w.begin(response ? TAG_AARE : TAG_AARQ);
  // protocol-version [0] IMPLICIT BIT STRING { version1 (0) }: 7 unused bits, 0x80
  w.u8(0x80);
  w.u8(2);
  w.u8(0x07);
  w.u8(0x80);
  w.begin(0xa1); // application-context-name [1]
  acName(w, ac, version);
  w.end();
  if (response) {
    // result [2] Associate-result accepted(0)
    w.u8(0xa2);
    w.u8(3);
    w.int(0x02, 0);
    // result-source-diagnostic [3] dialogue-service-user [1] null(0)
    w.u8(0xa3);
    w.u8(5);
    w.u8(0xa1);
    w.u8(3);
    w.int(0x02, 0);
  }
  w.end();
  w.end();
  w.end();
  w.end();
}

/** Opens a TC-BEGIN up to the component portion; close with `endTcap`. */
export function beginTcapBegin(w: BerWriter, otid: number, ac: number, version: number): void {
  w.begin(TAG_BEGIN);
  tid(w, TAG_OTID, otid);
  dialogue(w, ac, version, false);
  w.begin(TAG_COMPONENTS);
}

/**
 * Opens a TC-END answering `dtid`. The first answer in a dialogue carries
 * the AARE accepting the context; an End closing a dialogue already
 * confirmed by a Continue has no dialogue portion (pass ac = 0).
 */
export function beginTcapEnd(w: BerWriter, dtid: number, ac: number, version: number): void {
  w.begin(TAG_END);
  tid(w, TAG_DTID, dtid);
  if (ac) dialogue(w, ac, version, true);
  w.begin(TAG_COMPONENTS);
}

/** Opens a TC-CONTINUE; the first one from the responder carries the AARE (ac ≠ 0). */
export function beginTcapContinue(w: BerWriter, otid: number, dtid: number, ac: number, version: number): void {
  w.begin(TAG_CONTINUE);
  tid(w, TAG_OTID, otid);
  tid(w, TAG_DTID, dtid);
  if (ac) dialogue(w, ac, version, true);
  w.begin(TAG_COMPONENTS);
}

export function endTcap(w: BerWriter): void {
  w.end(); // components
  w.end(); // message
}

/** Invoke { invokeID, opcode local, argument } — argument written by the caller before `w.end()`. */
export function beginInvoke(w: BerWriter, invokeId: number, opcode: number): void {
  w.begin(TAG_INVOKE);
  w.int(0x02, invokeId);
  w.int(0x02, opcode);
}

/** ReturnResultLast { invokeID, SEQUENCE { opcode, result } } — result by the caller, then `w.end(); w.end()`. */
export function beginResultLast(w: BerWriter, invokeId: number, opcode: number): void {
  w.begin(TAG_RESULT_LAST);
  w.int(0x02, invokeId);
  w.begin(0x30);
  w.int(0x02, opcode);
}

/** ReturnError { invokeID, errorCode local } without parameter. */
export function returnError(w: BerWriter, invokeId: number, errorCode: number): void {
  w.begin(TAG_RETURN_ERROR);
  w.int(0x02, invokeId);
  w.int(0x02, errorCode);
  w.end();
}
