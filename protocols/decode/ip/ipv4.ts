// IPv4 header (RFC 791). Options are skipped; the header checksum is not
// verified (mirrored copies are what they are, and tshark does not either
// by default).
import { DecodeError } from '../layer.ts';

interface Ipv4Header {
  version: 4;
  /** Addresses as unsigned 32-bit numbers (format with formatIpv4). */
  src: number;
  dst: number;
  protocol: number;
  id: number;
  ttl: number;
  /** Fragment offset in bytes. */
  fragmentOffset: number;
  moreFragments: boolean;
  /** Payload range in the buffer: header end .. total length (excludes link padding). */
  payloadOffset: number;
  payloadEnd: number;
}

const FLAG_MF = 0x2000;
const OFFSET_MASK = 0x1fff;

export function decodeIpv4(buf: Buffer, off: number, end = buf.length): Ipv4Header {
  if (off + 20 > end) throw new DecodeError('ip', 'truncated', `ipv4 header: ${end - off} bytes`);
  const b0 = buf[off]!;
  if (b0 >> 4 !== 4) throw new DecodeError('ip', 'malformed', `ipv4 version ${b0 >> 4}`);
  const headerLength = (b0 & 0x0f) * 4;
  if (headerLength < 20) throw new DecodeError('ip', 'malformed', `ipv4 header length ${headerLength}`);
  let totalLength = buf.readUInt16BE(off + 2);
  // 0 happens when the capturing host offloads segmentation (TSO): trust the capture.
  if (totalLength === 0) totalLength = end - off;
  if (totalLength < headerLength) throw new DecodeError('ip', 'malformed', `ipv4 total length ${totalLength} < header ${headerLength}`);
  if (off + totalLength > end) {
    throw new DecodeError('ip', 'truncated', `ipv4 total length ${totalLength}, ${end - off} bytes captured`);
  }
  const frag = buf.readUInt16BE(off + 6);
  return {
    version: 4,
    src: buf.readUInt32BE(off + 12),
    dst: buf.readUInt32BE(off + 16),
    protocol: buf[off + 9]!,
    id: buf.readUInt16BE(off + 4),
    ttl: buf[off + 8]!,
    fragmentOffset: (frag & OFFSET_MASK) * 8,
    moreFragments: (frag & FLAG_MF) !== 0,
    payloadOffset: off + headerLength,
    payloadEnd: off + totalLength,
  };
}
