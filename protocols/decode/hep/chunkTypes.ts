// HEP3/EEP chunk types (vendor 0x0000, generic) and captured-protocol types, as
// data. Source: HEP3 Network Protocol Specification (sipcapture/HEP docs) and
// the values used by heplify / captagent / Kamailio sipcapture.

export interface HepChunkTypeInfo {
  readonly name: string;
  /** Wire encoding of the chunk body. */
  readonly encoding: 'uint8' | 'uint16' | 'uint32' | 'ipv4' | 'ipv6' | 'string' | 'bytes' | 'uint64';
}

export const HEP3_CHUNK_TYPES = {
  0x0001: { name: 'ipFamily', encoding: 'uint8' },
  0x0002: { name: 'ipProtocol', encoding: 'uint8' },
  0x0003: { name: 'srcIPv4', encoding: 'ipv4' },
  0x0004: { name: 'dstIPv4', encoding: 'ipv4' },
  0x0005: { name: 'srcIPv6', encoding: 'ipv6' },
  0x0006: { name: 'dstIPv6', encoding: 'ipv6' },
  0x0007: { name: 'srcPort', encoding: 'uint16' },
  0x0008: { name: 'dstPort', encoding: 'uint16' },
  0x0009: { name: 'timestampSeconds', encoding: 'uint32' },
  0x000a: { name: 'timestampMicroseconds', encoding: 'uint32' },
  0x000b: { name: 'protocolType', encoding: 'uint8' },
  0x000c: { name: 'captureAgentId', encoding: 'uint32' },
  0x000d: { name: 'keepAliveTimer', encoding: 'uint16' },
  0x000e: { name: 'authenticationKey', encoding: 'string' },
  0x000f: { name: 'payload', encoding: 'bytes' },
  0x0010: { name: 'compressedPayload', encoding: 'bytes' },
  0x0011: { name: 'correlationId', encoding: 'string' },
  0x0012: { name: 'vlanId', encoding: 'uint16' },
  0x0013: { name: 'groupId', encoding: 'string' },
  0x0014: { name: 'srcMac', encoding: 'uint64' },
  0x0015: { name: 'dstMac', encoding: 'uint64' },
  0x0016: { name: 'ethernetType', encoding: 'uint16' },
  0x0017: { name: 'tcpFlags', encoding: 'uint8' },
  0x0018: { name: 'ipTos', encoding: 'uint8' },
  0x0020: { name: 'mosValue', encoding: 'uint16' },
  0x0021: { name: 'rFactor', encoding: 'uint16' },
  0x0022: { name: 'geoLocation', encoding: 'string' },
  0x0023: { name: 'jitter', encoding: 'uint32' },
  0x0024: { name: 'transactionType', encoding: 'string' },
  0x0025: { name: 'payloadJsonKeys', encoding: 'string' },
  0x0026: { name: 'tagsValues', encoding: 'string' },
  0x0027: { name: 'tagType', encoding: 'uint16' },
} as const satisfies Record<number, HepChunkTypeInfo>;

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

/**
 * Captured protocol type (chunk 0x000b). 0x00-0x0c from the HEP3 spec's list;
 * the higher values as heplify's decoder names them. Other values occur (the
 * spec grew over revisions) and are passed through as numbers.
 */
export const HEP_PROTOCOL_TYPES: Readonly<Record<number, string>> = {
  0x00: 'reserved',
  0x01: 'SIP',
  0x02: 'XMPP',
  0x03: 'SDP',
  0x04: 'RTP',
  0x05: 'RTCP',
  0x06: 'MGCP',
  0x07: 'MEGACO (H.248)',
  0x08: 'M2UA (SS7/SIGTRAN)',
  0x09: 'M3UA (SS7/SIGTRAN)',
  0x0a: 'IAX',
  0x0b: 'H.322',
  0x0c: 'H.321',
  0x22: 'rtpagent (QoS report)',
  0x23: 'RTCP-XR',
  0x26: 'horaclifix',
  0x35: 'DNS',
  0x64: 'log',
};

export const HEP_PROTO = { SIP: 0x01, M2UA: 0x08, M3UA: 0x09 } as const;

/** Address family values as HEP carries them (Linux AF_INET / AF_INET6). */
export const HEP_AF_INET = 2;
export const HEP_AF_INET6 = 10;
