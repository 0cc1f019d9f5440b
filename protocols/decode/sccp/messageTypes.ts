// ITU-T Q.713 §4.2 SCCP message type codes, and Q.713 §3.12 return causes.
export const SCCP_MESSAGE_TYPES: Readonly<Record<number, string>> = {
  0x01: 'CR',
  0x02: 'CC',
  0x03: 'CREF',
  0x04: 'RLSD',
  0x05: 'RLC',
  0x06: 'DT1',
  0x07: 'DT2',
  0x08: 'AK',
  0x09: 'UDT',
  0x0a: 'UDTS',
  0x0b: 'ED',
  0x0c: 'EA',
  0x0d: 'RSR',
  0x0e: 'RSC',
  0x0f: 'ERR',
  0x10: 'IT',
  0x11: 'XUDT',
  0x12: 'XUDTS',
  0x13: 'LUDT',
  0x14: 'LUDTS',
};

export const SCCP_UDT = 0x09;
export const SCCP_UDTS = 0x0a;
export const SCCP_XUDT = 0x11;
export const SCCP_XUDTS = 0x12;
export const SCCP_LUDT = 0x13;
export const SCCP_LUDTS = 0x14;

/** Optional parameter names (Q.713 §3) met in XUDT/LUDT. */
export const SCCP_PARAM_END_OF_OPTIONAL = 0x00;
export const SCCP_PARAM_SEGMENTATION = 0x10;

export const SCCP_RETURN_CAUSES: Readonly<Record<number, string>> = {
  0: 'noTranslationForAddressOfSuchNature',
  1: 'noTranslationForThisSpecificAddress',
  2: 'subsystemCongestion',
  3: 'subsystemFailure',
  4: 'unequippedUser',
  5: 'mtpFailure',
  6: 'networkCongestion',
  7: 'unqualified',
  8: 'errorInMessageTransport',
  9: 'errorInLocalProcessing',
  10: 'destinationCannotPerformReassembly',
  11: 'sccpFailure',
  12: 'hopCounterViolation',
  13: 'segmentationNotSupported',
  14: 'segmentationFailure',
};
