// HEP3/EEP chunk types (vendor 0x0000, generic) and the captured-protocol
// types we decode. Source: HEP3 Network Protocol Specification (sipcapture/HEP
// docs) and the values used by heplify / captagent / Kamailio sipcapture.

export const HEP3_CHUNK = {
  ipFamily: 0x0001,
  ipProtocol: 0x0002,
  srcIPv4: 0x0003,
  dstIPv4: 0x0004,
  srcIPv6: 0x0005,
  dstIPv6: 0x0006,
  srcPort: 0x0007,
  dstPort: 0x0008,
  timestampSeconds: 0x0009,
  timestampMicroseconds: 0x000a,
  protocolType: 0x000b,
  captureAgentId: 0x000c,
  keepAliveTimer: 0x000d,
  authenticationKey: 0x000e,
  payload: 0x000f,
  compressedPayload: 0x0010,
  correlationId: 0x0011,
  vlanId: 0x0012,
  groupId: 0x0013,
} as const;

/** Captured protocol types (chunk 0x000b) we decode. */
export const HEP_PROTO = { SIP: 0x01, M2UA: 0x08, M3UA: 0x09 } as const;

/** Address family values as HEP carries them (Linux AF_INET / AF_INET6). */
export const HEP_AF_INET = 2;
export const HEP_AF_INET6 = 10;
