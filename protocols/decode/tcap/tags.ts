// ITU-T Q.773 TCAP tags (one-octet identifiers as they appear on the wire).
export const TCAP_MESSAGE_TYPES: Readonly<Record<number, 'unidirectional' | 'begin' | 'end' | 'continue' | 'abort'>> = {
  0x61: 'unidirectional',
  0x62: 'begin',
  0x64: 'end',
  0x65: 'continue',
  0x67: 'abort',
};

export const TAG_OTID = 0x48; // [APPLICATION 8]
export const TAG_DTID = 0x49; // [APPLICATION 9]
export const TAG_P_ABORT_CAUSE = 0x4a; // [APPLICATION 10]
export const TAG_DIALOGUE_PORTION = 0x6b; // [APPLICATION 11]
export const TAG_COMPONENT_PORTION = 0x6c; // [APPLICATION 12]

export const TAG_EXTERNAL = 0x28;
export const TAG_OID = 0x06;
export const TAG_INTEGER = 0x02;
export const TAG_NULL = 0x05;
export const TAG_SEQUENCE = 0x30;

/** Dialogue PDUs inside EXTERNAL [0] single-ASN1-type (Q.773 §4.2.3). */
export const DIALOGUE_PDUS: Readonly<Record<number, 'request' | 'response' | 'abort'>> = {
  0x60: 'request', // AARQ (AUDT in unidirectional dialogues has the same tag)
  0x61: 'response', // AARE
  0x64: 'abort', // ABRT
};
export const TAG_DIALOGUE_AC_NAME = 0xa1; // application-context-name [1]

export const COMPONENT_KINDS: Readonly<Record<number, { kind: 'invoke' | 'result' | 'error' | 'reject'; last: boolean }>> = {
  0xa1: { kind: 'invoke', last: true },
  0xa2: { kind: 'result', last: true }, // ReturnResultLast
  0xa3: { kind: 'error', last: true },
  0xa4: { kind: 'reject', last: true },
  0xa7: { kind: 'result', last: false }, // ReturnResultNotLast
};

export const TAG_LINKED_ID = 0x80; // linkedID [0]

/** Reject problem: [0] general, [1] invoke, [2] returnResult, [3] returnError (Q.773 §4.2.2). */
export const REJECT_PROBLEM_TYPES: Readonly<Record<number, string>> = {
  0x80: 'general',
  0x81: 'invoke',
  0x82: 'returnResult',
  0x83: 'returnError',
};

export const P_ABORT_CAUSES: Readonly<Record<number, string>> = {
  0: 'unrecognizedMessageType',
  1: 'unrecognizedTransactionID',
  2: 'badlyFormattedTransactionPortion',
  3: 'incorrectTransactionPortion',
  4: 'resourceLimitation',
};
