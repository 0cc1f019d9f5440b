// Entry point of the link layer: take a captured frame apart according to its link type.
import { DecodeError, need } from '../layer.ts';
import { decodeEthernet } from './ethernet.ts';
import { ETHERTYPE, ETHERTYPE_LLC } from './etherTypes.ts';
import type { LinkResult } from './linkResult.ts';
import { LINK_TYPES } from './linkTypes.ts';
import { decodeSll, decodeSll2 } from './linuxCooked.ts';
import { decodeNullLoopback } from './loopback.ts';

export function decodeLink(linkType: number, buf: Buffer): LinkResult {
  const entry = LINK_TYPES[linkType];
  if (entry === undefined) throw new DecodeError('link', 'unsupported', `link type ${linkType}`);
  switch (entry.decoder) {
    case 'ethernet':
      return decodeEthernet(buf, 0);
    case 'sll':
      return decodeSll(buf, 0);
    case 'sll2':
      return decodeSll2(buf, 0);
    case 'null':
      return decodeNullLoopback(buf, 0, false);
    case 'loop':
      return decodeNullLoopback(buf, 0, true);
    case 'raw':
      return { etherType: ipEtherType(buf, 0), offset: 0, vlans: [] };
    case 'ipv4':
      return { etherType: ETHERTYPE.ipv4, offset: 0, vlans: [] };
    case 'ipv6':
      return { etherType: ETHERTYPE.ipv6, offset: 0, vlans: [] };
  }
}

/** EtherType for a bare IP packet, from its version nibble. */
export function ipEtherType(buf: Buffer, off: number): number {
  need('link', buf, off, 1, 'raw ip version');
  const v = buf[off]! >> 4;
  if (v === 4) return ETHERTYPE.ipv4;
  if (v === 6) return ETHERTYPE.ipv6;
  return ETHERTYPE_LLC;
}
