// SIP layer: detection, message parsing, stream framing, URIs and code tables.
export { looksLikeSip } from './detect.ts';
export { parseSipMessage, SipMessage, findHeaderEnd, type SipMessageKind } from './message.ts';
export { SipStreamFramer, type SipFramerStats, type SipStreamFramerOptions } from './framer.ts';
export { parseUri, type SipUri } from './uri.ts';
export { parseNameAddr, type NameAddr } from './nameAddr.ts';
export { SipHeaders } from './headers.ts';
export * from './structuredHeaders.ts';
export { SIP_METHODS, isKnownSipMethod, type KnownSipMethod, type SipMethodInfo } from './methods.ts';
export { SIP_STATUS_CODES, canonicalReason, statusClass, type SipStatusInfo } from './statusCodes.ts';
export { COMPACT_HEADER_FORMS, canonicalHeaderName } from './compactHeaders.ts';
