// Magic numbers and block codes of the pcap and pcapng file formats
// (draft-ietf-opsawg-pcap, draft-ietf-opsawg-pcapng).

/** Classic pcap magic, as read little-endian from the first 4 bytes. */
export const PCAP_MAGIC = {
  micro: 0xa1b2c3d4,
  nano: 0xa1b23c4d,
  /** Kuznetzov's patched libpcap: 8 extra bytes per record header. */
  modified: 0xa1b2cd34,
} as const;

export const PCAP_FILE_HEADER_LENGTH = 24;

/** pcapng block types. */
export const PCAPNG_BLOCK = {
  sectionHeader: 0x0a0d0d0a,
  interfaceDescription: 0x00000001,
  obsoletePacket: 0x00000002,
  simplePacket: 0x00000003,
  enhancedPacket: 0x00000006,
} as const;

export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** Interface Description Block option codes we read. */
export const PCAPNG_IDB_OPTION = {
  endOfOptions: 0,
  tsresol: 9,
  tsoffset: 14,
} as const;

/** First bytes of a gzip member (RFC 1952). */
export const GZIP_MAGIC = [0x1f, 0x8b] as const;

/** Upper bound on one record, so a corrupt length cannot make us buffer gigabytes. */
export const MAX_RECORD_LENGTH = 16 * 1024 * 1024;
