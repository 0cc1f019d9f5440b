// SIP layer: detection, message parsing, stream framing, URIs and code tables.
export { parseSipMessage, SipMessage } from './message.ts';
export { SipStreamFramer, type SipFramingFailure } from './framer.ts';
export { parseUri } from './uri.ts';
export { parseNameAddr } from './nameAddr.ts';
export { SipHeaders } from './headers.ts';
export * from './structuredHeaders.ts';
export { canonicalReason } from './statusCodes.ts';
export { canonicalHeaderName } from './compactHeaders.ts';
export { firstControlCharacter, withoutControlCharacters } from './controlCharacters.ts';
