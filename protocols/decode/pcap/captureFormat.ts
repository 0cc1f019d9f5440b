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

/** Microsoft Network Monitor file magics ("GMBU" for 2.x, "RTSS" for 1.x), as read little-endian from the first 4 bytes. */
export const NETMON_MAGIC = {
  v2: 0x55424d47,
  v1: 0x53535452,
} as const;

/** The NetMon file header, padded to 128 bytes; the frame table's offset and length are at 24 and 28. */
export const NETMON_FILE_HEADER_LENGTH = 128;

/** Per-frame trailer length after the captured bytes, by 2.x minor version (media type; process index; UTC time and zone). */
export const NETMON_TRAILER_LENGTH: Readonly<Record<number, number>> = { 0: 0, 1: 2, 2: 6, 3: 15 };

/** 0xE000 + n: a frame converted from a pcap file with LINKTYPE n. */
export const NETMON_PCAP_BASE = 0xe000;

/**
 * NetMon media types (NDIS medium numbers, reused by 2.x) as LINKTYPE_*
 * (Wireshark's netmon_encap). 0 is Ethernet too: NetMon 3.4 VPN captures
 * give 0 to Ethernet frames. Others (ATM, 802.11 with NetMon's radio
 * header, event-tracing records, filters) get NETMON_UNMAPPED + their type.
 */
export const NETMON_LINKTYPE: Readonly<Record<number, number>> = {
  0: 1, // Ethernet
  1: 1, // Ethernet
  2: 6, // Token Ring (LINKTYPE_IEEE802_5)
  3: 10, // FDDI
  7: 101, // "tunneling interfaces": raw IP
  8: 101, // "wireless WAN": raw IP
  9: 101, // "raw IP frames"
};

/** Above every 16-bit LINKTYPE: a frame whose media type has none, so the link layer counts it as unsupported with the type still visible. */
export const NETMON_UNMAPPED = 0x10000;

/** Metadata records NetMon keeps among the frames and tshark does not count as frames (network info, DNS cache, reassembly header). */
export const NETMON_SKIPPED_METADATA: ReadonlySet<number> = new Set([0xfffc, 0xfffd, 0xfffe]);

/** 100-ns intervals between 1601-01-01 (Windows FILETIME's epoch) and 1970-01-01. */
export const FILETIME_UNIX_EPOCH = 116_444_736_000_000_000n;
