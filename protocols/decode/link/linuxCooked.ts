// Linux "cooked" captures (tcpdump -i any): SLL v1 (16-byte header, protocol
// last) and SLL2 (20-byte header, protocol first). The protocol field is an
// EtherType for ordinary interfaces (and the GRE protocol for ARPHRD_IPGRE,
// same number space).
import { need } from '../layer.ts';
import { ETHERTYPE_LLC, ETHERTYPE_MIN, VLAN_TAG_TYPES } from './etherTypes.ts';
import type { LinkResult } from './linkResult.ts';

const ARPHRD_NETLINK = 824;

export function decodeSll(buf: Buffer, off = 0): LinkResult {
  need('link', buf, off, 16, 'linux sll header');
  return cooked(buf, buf.readUInt16BE(off + 2), buf.readUInt16BE(off + 14), off + 16);
}

export function decodeSll2(buf: Buffer, off = 0): LinkResult {
  need('link', buf, off, 20, 'linux sll2 header');
  return cooked(buf, buf.readUInt16BE(off + 8), buf.readUInt16BE(off), off + 20);
}

function cooked(buf: Buffer, arphrd: number, protocol: number, offset: number): LinkResult {
  // Netlink frames carry a netlink family there, not an EtherType; small values are Linux pseudo-protocols.
  if (arphrd === ARPHRD_NETLINK || protocol < ETHERTYPE_MIN) return { etherType: ETHERTYPE_LLC, offset, vlans: [] };
  // Cooked captures on a VLAN-unaware trunk keep the tag in the payload.
  const vlans: number[] = [];
  while (VLAN_TAG_TYPES.has(protocol) && vlans.length < 8) {
    need('link', buf, offset, 4, 'vlan tag');
    vlans.push(buf.readUInt16BE(offset) & 0x0fff);
    protocol = buf.readUInt16BE(offset + 2);
    offset += 4;
  }
  return { etherType: protocol, offset, vlans };
}
