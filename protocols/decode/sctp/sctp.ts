// SCTP packet (RFC 9260): the common header and every DATA chunk in it (a
// packet may bundle several). Control chunks are counted, not decoded. The
// CRC32c checksum is not verified (mirrored copies).
import { DecodeError } from '../layer.ts';
import { SCTP_CHUNK, SCTP_DATA_FLAG } from './sctpChunkTypes.ts';

export interface SctpDataChunk {
  tsn: number;
  streamId: number;
  /** Stream sequence number. */
  ssn: number;
  /** Payload protocol identifier (3 = M3UA, 5 = M2PA, 46 / 47 = diameter...). */
  ppid: number;
  begin: boolean;
  end: boolean;
  unordered: boolean;
  /** User data (fragment), a view into the frame. */
  data: Buffer;
}

interface SctpPacket {
  srcPort: number;
  dstPort: number;
  verificationTag: number;
  data: SctpDataChunk[];
  /** Chunks other than DATA (INIT, SACK, HEARTBEAT...). */
  controlChunks: number;
  /** I-DATA chunks (RFC 8260), counted but not decoded. */
  iDataChunks: number;
}

const DATA_HEADER = 16;

export function decodeSctp(buf: Buffer, off: number, end = buf.length): SctpPacket {
  if (off + 12 > end) throw new DecodeError('sctp', 'truncated', `sctp common header: ${end - off} bytes`);
  const packet: SctpPacket = {
    srcPort: buf.readUInt16BE(off),
    dstPort: buf.readUInt16BE(off + 2),
    verificationTag: buf.readUInt32BE(off + 4),
    data: [],
    controlChunks: 0,
    iDataChunks: 0,
  };
  let o = off + 12;
  while (o < end) {
    if (o + 4 > end) throw new DecodeError('sctp', 'truncated', `chunk header at ${o - off}`);
    const type = buf[o]!;
    const flags = buf[o + 1]!;
    const len = buf.readUInt16BE(o + 2);
    if (len < 4) throw new DecodeError('sctp', 'malformed', `chunk length ${len}`);
    if (o + len > end) throw new DecodeError('sctp', 'truncated', `chunk type ${type} length ${len}, ${end - o} bytes left`);
    if (type === SCTP_CHUNK.data) {
      if (len < DATA_HEADER) throw new DecodeError('sctp', 'malformed', `data chunk length ${len}`);
      packet.data.push({
        tsn: buf.readUInt32BE(o + 4),
        streamId: buf.readUInt16BE(o + 8),
        ssn: buf.readUInt16BE(o + 10),
        ppid: buf.readUInt32BE(o + 12),
        begin: (flags & SCTP_DATA_FLAG.begin) !== 0,
        end: (flags & SCTP_DATA_FLAG.end) !== 0,
        unordered: (flags & SCTP_DATA_FLAG.unordered) !== 0,
        data: buf.subarray(o + DATA_HEADER, o + len),
      });
    } else if (type === SCTP_CHUNK.iData) {
      packet.iDataChunks++;
    } else {
      packet.controlChunks++;
    }
    // Chunks are padded to 4 bytes; the padding of the last one may be missing.
    o += (len + 3) & ~3;
  }
  return packet;
}
