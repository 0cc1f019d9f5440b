// SIP transport layer: UDP + TCP on one address, framing, response routing.
export { SipTransport, type SipMessageHandler, type SipTransportOptions } from './transport.ts';
export { responseTarget, DEFAULT_SIP_PORT, type ResponseRoute } from './responseTarget.ts';
export { stampReceived, stampViaValue } from './received.ts';
export { salvageRequest, type SalvagedRequest } from './salvage.ts';
export { emptyTransportStats, type SipTransportStats } from './stats.ts';
export { isReliable, endpointKey, type MessageSource, type SendOptions, type SipTransportName, type TransportTarget } from './types.ts';
