// SIP transport layer: UDP + TCP on one address, framing, response routing.
export { SipTransport, type SipMessageHandler } from './transport.ts';
export { responseTarget, DEFAULT_SIP_PORT, type ResponseRoute } from './responseTarget.ts';
export { isReliable, type MessageSource, type SendOptions, type SipTransportName, type TransportTarget } from './types.ts';
