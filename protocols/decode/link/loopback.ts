// BSD loopback headers: a 4-byte address family, in the capturing host's byte
// order for LINKTYPE_NULL and big-endian for LINKTYPE_LOOP. AF_INET6 differs
// between systems, so every known value maps to IPv6.
import { need } from '../layer.ts';
import { ETHERTYPE, ETHERTYPE_LLC } from './etherTypes.ts';
import type { LinkResult } from './linkResult.ts';

const ADDRESS_FAMILY_ETHERTYPE: Readonly<Record<number, number>> = {
  2: ETHERTYPE.ipv4, // AF_INET everywhere
  10: ETHERTYPE.ipv6, // Linux
  24: ETHERTYPE.ipv6, // NetBSD, OpenBSD, BSD/OS
  28: ETHERTYPE.ipv6, // FreeBSD, DragonFly
  30: ETHERTYPE.ipv6, // Darwin
};

export function decodeNullLoopback(buf: Buffer, off = 0, bigEndianOnly = false): LinkResult {
  need('link', buf, off, 4, 'loopback header');
  let af = buf.readUInt32BE(off);
  // Host byte order unknown: a family fits in 16 bits, so a large value means it was little-endian.
  if (!bigEndianOnly && af > 0xffff) af = buf.readUInt32LE(off);
  return { etherType: ADDRESS_FAMILY_ETHERTYPE[af] ?? ETHERTYPE_LLC, offset: off + 4, vlans: [] };
}
