// UDP header (RFC 768). The checksum is not verified (mirrored copies).
import { DecodeError } from '../layer.ts';

interface UdpHeader {
  srcPort: number;
  dstPort: number;
  payloadOffset: number;
  payloadEnd: number;
}

export function decodeUdp(buf: Buffer, off: number, end = buf.length): UdpHeader {
  if (off + 8 > end) throw new DecodeError('udp', 'truncated', `udp header: ${end - off} bytes`);
  let length = buf.readUInt16BE(off + 4);
  // 0 is legal only for IPv6 jumbograms (RFC 2675); the IP payload bounds it then.
  if (length === 0) length = end - off;
  if (length < 8) throw new DecodeError('udp', 'malformed', `udp length ${length}`);
  if (off + length > end) throw new DecodeError('udp', 'truncated', `udp length ${length}, ${end - off} bytes present`);
  return {
    srcPort: buf.readUInt16BE(off),
    dstPort: buf.readUInt16BE(off + 2),
    payloadOffset: off + 8,
    payloadEnd: off + length,
  };
}
