// TCP header (RFC 9293). Options are skipped; the checksum is not verified.
import { DecodeError } from '../layer.ts';

interface TcpHeader {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** TCP_FLAG bits. */
  flags: number;
  window: number;
  payloadOffset: number;
  payloadEnd: number;
}

export function decodeTcp(buf: Buffer, off: number, end = buf.length): TcpHeader {
  if (off + 20 > end) throw new DecodeError('tcp', 'truncated', `tcp header: ${end - off} bytes`);
  const headerLength = (buf[off + 12]! >> 4) * 4;
  if (headerLength < 20) throw new DecodeError('tcp', 'malformed', `tcp data offset ${headerLength}`);
  if (off + headerLength > end) throw new DecodeError('tcp', 'truncated', `tcp header length ${headerLength}, ${end - off} bytes present`);
  return {
    srcPort: buf.readUInt16BE(off),
    dstPort: buf.readUInt16BE(off + 2),
    seq: buf.readUInt32BE(off + 4),
    ack: buf.readUInt32BE(off + 8),
    flags: buf[off + 13]!,
    window: buf.readUInt16BE(off + 14),
    payloadOffset: off + headerLength,
    payloadEnd: end,
  };
}
