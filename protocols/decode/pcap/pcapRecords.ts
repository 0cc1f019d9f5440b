// Classic libpcap files: a 24-byte file header, then 16-byte record headers
// each followed by the captured bytes. Byte order and timestamp precision
// come from the magic number.
import { DecodeError } from '../layer.ts';
import type { CapturedFrame } from './capturedFrame.ts';
import { MAX_RECORD_LENGTH, PCAP_FILE_HEADER_LENGTH, PCAP_MAGIC } from './captureFormat.ts';
import type { RecordParser } from './recordParser.ts';

export class PcapRecordParser implements RecordParser {
  readonly littleEndian: boolean;
  readonly nanosecond: boolean;
  readonly linkType: number;
  readonly snapLength: number;
  private readonly recordHeaderLength: number;
  private readonly fracToNs: number;

  /** `header` holds at least the 24-byte file header. */
  constructor(header: Buffer) {
    if (header.length < PCAP_FILE_HEADER_LENGTH) throw new DecodeError('pcap', 'truncated', 'pcap file header');
    const le = header.readUInt32LE(0);
    const be = header.readUInt32BE(0);
    let magic: number;
    if (le === PCAP_MAGIC.micro || le === PCAP_MAGIC.nano || le === PCAP_MAGIC.modified) {
      this.littleEndian = true;
      magic = le;
    } else if (be === PCAP_MAGIC.micro || be === PCAP_MAGIC.nano || be === PCAP_MAGIC.modified) {
      this.littleEndian = false;
      magic = be;
    } else {
      throw new DecodeError('pcap', 'malformed', `not a pcap magic: 0x${le.toString(16)}`);
    }
    this.nanosecond = magic === PCAP_MAGIC.nano;
    this.fracToNs = this.nanosecond ? 1 : 1000;
    this.recordHeaderLength = magic === PCAP_MAGIC.modified ? 24 : 16;
    const major = this.u16(header, 4);
    if (major !== 2) throw new DecodeError('pcap', 'unsupported', `pcap version ${major}`);
    this.snapLength = this.u32(header, 16);
    // The upper bits carry FCS information (draft-ietf-opsawg-pcap §4); the link type is the low 16.
    this.linkType = this.u32(header, 20) & 0xffff;
  }

  parse(buf: Buffer, off: number, index: number, out: CapturedFrame[]): number {
    const hl = this.recordHeaderLength;
    if (buf.length - off < hl) return 0;
    const capLen = this.u32(buf, off + 8);
    if (capLen > MAX_RECORD_LENGTH) {
      throw new DecodeError('pcap', 'malformed', `claims ${capLen} captured bytes`);
    }
    const total = hl + capLen;
    if (buf.length - off < total) return 0;
    const sec = this.u32(buf, off);
    const frac = this.u32(buf, off + 4);
    out.push({
      index,
      timeNs: BigInt(sec) * 1_000_000_000n + BigInt(frac * this.fracToNs),
      linkType: this.linkType,
      interfaceId: 0,
      data: buf.subarray(off + hl, off + total),
      origLength: this.u32(buf, off + 12),
    });
    return total;
  }

  private u16(b: Buffer, o: number): number {
    return this.littleEndian ? b.readUInt16LE(o) : b.readUInt16BE(o);
  }

  private u32(b: Buffer, o: number): number {
    return this.littleEndian ? b.readUInt32LE(o) : b.readUInt32BE(o);
  }
}
