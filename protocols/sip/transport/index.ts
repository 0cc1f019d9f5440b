// SIP transport layer: UDP + TCP on one address, TLS beside them, framing, response routing.
export { SipTransport, type SipMessageHandler } from './transport.ts';
export { responseTarget, DEFAULT_SIP_PORT, type ResponseRoute } from './responseTarget.ts';
export { isReliable, type MessageSource, type SendOptions, type SipTransportName, type TransportTarget } from './types.ts';
export { DEFAULT_SIPS_PORT, type SipTlsOptions } from './tlsTransport.ts';
export { FLOW_ROUTE_PARAM, flowRoute, isFlowRoute, refreshedRouteSet, mintFlowToken, readFlowToken, routeUri } from './flowToken.ts';
export { SipServerLocator, defaultTarget, needsLookup, type SipDnsResolver, type SipUriLocation } from './serverLocation.ts';
