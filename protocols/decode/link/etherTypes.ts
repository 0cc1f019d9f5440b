// EtherType values (IEEE registry) that matter on the way to IP. GRE's
// protocol type field uses the same number space (RFC 2784 §2.4).

export const ETHERTYPE = {
  ipv4: 0x0800,
  arp: 0x0806,
  vlan: 0x8100, // 802.1Q C-tag
  qinq: 0x88a8, // 802.1ad S-tag
  qinqOld: 0x9100, // pre-standard stacked VLAN tag
  qinqOld2: 0x9200,
  ipv6: 0x86dd,
  transparentEthernetBridging: 0x6558, // GRE carrying whole Ethernet frames
  erspan2: 0x88be, // ERSPAN type I/II over GRE
  erspan3: 0x22eb, // ERSPAN type III over GRE
} as const;

/** Tags that wrap another EtherType after a 2-byte TCI. */
export const VLAN_TAG_TYPES: ReadonlySet<number> = new Set([ETHERTYPE.vlan, ETHERTYPE.qinq, ETHERTYPE.qinqOld, ETHERTYPE.qinqOld2]);

/** Values below this in the type/length field are an 802.3 length (LLC follows), not an EtherType. */
export const ETHERTYPE_MIN = 0x0600;

/** Pseudo EtherType for frames with an 802.3 length field (LLC/SNAP, STP, CDP...). */
export const ETHERTYPE_LLC = 0;
