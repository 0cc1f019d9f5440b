// LINKTYPE_* values (tcpdump.org/linktypes.html) we can take apart, and how.

type LinkDecoder = 'ethernet' | 'null' | 'loop' | 'raw' | 'ipv4' | 'ipv6' | 'sll' | 'sll2';

export const LINK_TYPES: Readonly<Record<number, { name: string; decoder: LinkDecoder }>> = {
  0: { name: 'NULL', decoder: 'null' }, // BSD loopback, address family in host byte order
  1: { name: 'ETHERNET', decoder: 'ethernet' },
  12: { name: 'RAW (OpenBSD DLT_RAW)', decoder: 'raw' },
  14: { name: 'RAW (BSD DLT_RAW)', decoder: 'raw' },
  101: { name: 'RAW', decoder: 'raw' }, // IPv4 or IPv6, told apart by the version nibble
  108: { name: 'LOOP', decoder: 'loop' }, // OpenBSD loopback, address family big-endian
  113: { name: 'LINUX_SLL', decoder: 'sll' },
  228: { name: 'IPV4', decoder: 'ipv4' },
  229: { name: 'IPV6', decoder: 'ipv6' },
  276: { name: 'LINUX_SLL2', decoder: 'sll2' },
};

export const LINKTYPE = {
  null: 0,
  ethernet: 1,
  raw: 101,
  loop: 108,
  linuxSll: 113,
  ipv4: 228,
  ipv6: 229,
  linuxSll2: 276,
} as const;
