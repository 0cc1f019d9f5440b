// IANA protocol numbers (IPv4 protocol / IPv6 next header) that we act on.

export const IPPROTO = {
  hopByHop: 0,
  icmp: 1,
  ipip: 4, // IPv4 in IP
  tcp: 6,
  udp: 17,
  ipv6: 41, // IPv6 in IP
  routing: 43,
  fragment: 44,
  gre: 47,
  esp: 50,
  ah: 51,
  icmpv6: 58,
  noNext: 59,
  destinationOptions: 60,
  mobility: 135,
  hip: 139,
  shim6: 140,
  sctp: 132,
} as const;

/**
 * IPv6 extension headers in the common "next header, length in 8-octet units
 * beyond the first 8" format (RFC 8200 §4, RFC 6564). AH and the fragment
 * header have their own length rules and are handled separately.
 */
export const IPV6_GENERIC_EXTENSION_HEADERS: ReadonlySet<number> = new Set([
  IPPROTO.hopByHop,
  IPPROTO.routing,
  IPPROTO.destinationOptions,
  IPPROTO.mobility,
  IPPROTO.hip,
  IPPROTO.shim6,
]);
