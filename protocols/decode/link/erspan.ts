// ERSPAN (Cisco port mirroring over GRE; draft-foschiano-erspan). Type I has
// no header; type II (GRE proto 0x88BE with a sequence number) an 8-byte one;
// type III (0x22EB) 12 bytes plus an optional 8-byte platform subheader, and
// may carry a bare IP packet instead of an Ethernet frame.
import { DecodeError } from '../layer.ts';
import { ETHERTYPE } from './etherTypes.ts';
import type { GreHeader } from './gre.ts';

interface ErspanResult {
  /** What the mirrored payload is: a whole Ethernet frame, or an IP packet. */
  payload: 'ethernet' | 'ip';
  offset: number;
  type: 1 | 2 | 3;
  session: number | undefined;
}

const FRAME_TYPE_ETHERNET = 0;
const FRAME_TYPE_IP = 2;

export function decodeErspan(buf: Buffer, gre: GreHeader, end = buf.length): ErspanResult {
  const o = gre.offset;
  if (gre.protocol === ETHERTYPE.erspan2) {
    if (gre.sequence === undefined) return { payload: 'ethernet', offset: o, type: 1, session: undefined };
    if (o + 8 > end) throw new DecodeError('erspan', 'truncated', 'erspan type II header');
    const w0 = buf.readUInt16BE(o);
    if (w0 >> 12 !== 1) throw new DecodeError('erspan', 'malformed', `erspan type II with version ${w0 >> 12}`);
    return { payload: 'ethernet', offset: o + 8, type: 2, session: buf.readUInt16BE(o + 2) & 0x03ff };
  }
  if (gre.protocol === ETHERTYPE.erspan3) {
    if (o + 12 > end) throw new DecodeError('erspan', 'truncated', 'erspan type III header');
    const w0 = buf.readUInt16BE(o);
    if (w0 >> 12 !== 2) throw new DecodeError('erspan', 'malformed', `erspan type III with version ${w0 >> 12}`);
    const frameType = (buf[o + 10]! >> 2) & 0x1f;
    const hasSubheader = (buf[o + 11]! & 0x01) !== 0;
    const payloadAt = o + 12 + (hasSubheader ? 8 : 0);
    if (payloadAt > end) throw new DecodeError('erspan', 'truncated', 'erspan platform subheader');
    const session = buf.readUInt16BE(o + 2) & 0x03ff;
    if (frameType === FRAME_TYPE_ETHERNET) return { payload: 'ethernet', offset: payloadAt, type: 3, session };
    if (frameType === FRAME_TYPE_IP) return { payload: 'ip', offset: payloadAt, type: 3, session };
    throw new DecodeError('erspan', 'unsupported', `erspan type III frame type ${frameType}`);
  }
  throw new DecodeError('erspan', 'malformed', `gre protocol 0x${gre.protocol.toString(16)} is not erspan`);
}
