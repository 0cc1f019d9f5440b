// GRE (RFC 2784 with RFC 2890 key and sequence number). The protocol type is
// an EtherType: IP, Transparent Ethernet Bridging, or ERSPAN for mirrored ports.
import { DecodeError } from '../layer.ts';

const GRE_CHECKSUM = 0x8000;
const GRE_ROUTING = 0x4000;
const GRE_KEY = 0x2000;
const GRE_SEQUENCE = 0x1000;
const GRE_VERSION_MASK = 0x0007;

export interface GreHeader {
  /** EtherType of the payload. */
  protocol: number;
  /** Offset of the payload. */
  offset: number;
  key: number | undefined;
  sequence: number | undefined;
}

export function decodeGre(buf: Buffer, off: number, end = buf.length): GreHeader {
  if (off + 4 > end) throw new DecodeError('gre', 'truncated', 'gre header');
  const flags = buf.readUInt16BE(off);
  const protocol = buf.readUInt16BE(off + 2);
  const version = flags & GRE_VERSION_MASK;
  // Version 1 is PPTP's enhanced GRE carrying PPP: not mirrored signaling.
  if (version !== 0) throw new DecodeError('gre', 'unsupported', `gre version ${version}`);
  // RFC 1701 source routing is deprecated (RFC 2784) and never used for mirroring.
  if (flags & GRE_ROUTING) throw new DecodeError('gre', 'unsupported', 'gre source routing');
  let o = off + 4;
  if (flags & GRE_CHECKSUM) o += 4; // checksum + reserved1
  let key: number | undefined;
  let sequence: number | undefined;
  if (flags & GRE_KEY) {
    if (o + 4 > end) throw new DecodeError('gre', 'truncated', 'gre key');
    key = buf.readUInt32BE(o);
    o += 4;
  }
  if (flags & GRE_SEQUENCE) {
    if (o + 4 > end) throw new DecodeError('gre', 'truncated', 'gre sequence number');
    sequence = buf.readUInt32BE(o);
    o += 4;
  }
  if (o > end) throw new DecodeError('gre', 'truncated', 'gre checksum');
  return { protocol, offset: o, key, sequence };
}
