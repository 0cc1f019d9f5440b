// Ethernet II with any stack of 802.1Q / 802.1ad VLAN tags.
import { DecodeError, need } from '../layer.ts';
import { ETHERTYPE_LLC, ETHERTYPE_MIN, VLAN_TAG_TYPES } from './etherTypes.ts';
import type { LinkResult } from './linkResult.ts';

const NO_VLANS: number[] = [];
const MAX_TAGS = 8; // more than any real network stacks; bounds hostile input

export function decodeEthernet(buf: Buffer, off = 0): LinkResult {
  need('link', buf, off, 14, 'ethernet header');
  let type = buf.readUInt16BE(off + 12);
  let o = off + 14;
  let vlans = NO_VLANS;
  while (VLAN_TAG_TYPES.has(type)) {
    need('link', buf, o, 4, 'vlan tag');
    if (vlans === NO_VLANS) vlans = [];
    if (vlans.length === MAX_TAGS) throw new DecodeError('link', 'malformed', `more than ${MAX_TAGS} vlan tags`);
    vlans.push(buf.readUInt16BE(o) & 0x0fff);
    type = buf.readUInt16BE(o + 2);
    o += 4;
  }
  return { etherType: type < ETHERTYPE_MIN ? ETHERTYPE_LLC : type, offset: o, vlans };
}
