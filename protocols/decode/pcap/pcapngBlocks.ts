// pcapng: a sequence of blocks (type, total length, body, total length).
// Each Section Header Block sets the byte order for its section and resets
// the interface list; each Interface Description Block adds an interface
// with its own link type and timestamp resolution (if_tsresol).
import { DecodeError } from '../layer.ts';
import type { CapturedFrame } from './capturedFrame.ts';
import { MAX_RECORD_LENGTH, PCAPNG_BLOCK, PCAPNG_BYTE_ORDER_MAGIC, PCAPNG_IDB_OPTION } from './captureFormat.ts';
import type { RecordParser } from './recordParser.ts';

interface PcapngInterface {
  linkType: number;
  snapLength: number;
  /** ns = ticks * mul / div + offset; div is 1n in the usual decimal cases. */
  mul: bigint;
  div: bigint;
  offsetNs: bigint;
}

export class PcapngBlockParser implements RecordParser {
  private littleEndian = true;
  private interfaces: PcapngInterface[] = [];
  private inSection = false;

  /** Interfaces of the current section (read-only view, for tests and stats). */
  get interfaceCount(): number {
    return this.interfaces.length;
  }

  parse(buf: Buffer, off: number, index: number, out: CapturedFrame[]): number {
    const avail = buf.length - off;
    if (avail < 12) return 0;
    const type = buf.readUInt32LE(off); // SHB type is a palindrome, so byte order does not matter for it
    if (type === PCAPNG_BLOCK.sectionHeader) {
      const bomLe = buf.readUInt32LE(off + 8);
      if (bomLe === PCAPNG_BYTE_ORDER_MAGIC) this.littleEndian = true;
      else if (buf.readUInt32BE(off + 8) === PCAPNG_BYTE_ORDER_MAGIC) this.littleEndian = false;
      else throw new DecodeError('pcap', 'malformed', 'pcapng section header: bad byte-order magic');
    } else if (!this.inSection) {
      throw new DecodeError('pcap', 'malformed', 'pcapng: block before the first section header');
    }
    const len = this.u32(buf, off + 4);
    if (len < 12 || len % 4 !== 0 || len > MAX_RECORD_LENGTH) {
      throw new DecodeError('pcap', 'malformed', `pcapng block length ${len}`);
    }
    if (avail < len) return 0;
    if (this.u32(buf, off + len - 4) !== len) {
      throw new DecodeError('pcap', 'malformed', 'pcapng block: trailing length differs from leading length');
    }
    const blockType = this.littleEndian ? type : buf.readUInt32BE(off);
    switch (blockType) {
      case PCAPNG_BLOCK.sectionHeader:
        this.sectionHeader(buf, off, len);
        break;
      case PCAPNG_BLOCK.interfaceDescription:
        this.interfaceDescription(buf, off, len);
        break;
      case PCAPNG_BLOCK.enhancedPacket:
        this.packet(buf, off, len, index, out, this.u32(buf, off + 8), 28);
        break;
      case PCAPNG_BLOCK.obsoletePacket:
        this.packet(buf, off, len, index, out, this.u16(buf, off + 8), 28);
        break;
      case PCAPNG_BLOCK.simplePacket:
        this.simplePacket(buf, off, len, index, out);
        break;
      default:
        break; // name resolution, statistics, custom, decryption secrets...: not needed
    }
    return len;
  }

  private sectionHeader(buf: Buffer, off: number, len: number): void {
    if (len < 28) throw new DecodeError('pcap', 'malformed', 'pcapng section header too short');
    const major = this.u16(buf, off + 12);
    if (major !== 1) throw new DecodeError('pcap', 'unsupported', `pcapng major version ${major}`);
    this.inSection = true;
    this.interfaces = [];
  }

  private interfaceDescription(buf: Buffer, off: number, len: number): void {
    if (len < 20) throw new DecodeError('pcap', 'malformed', 'pcapng interface description too short');
    const iface: PcapngInterface = {
      linkType: this.u16(buf, off + 8),
      snapLength: this.u32(buf, off + 12),
      mul: 1000n, // default resolution: microseconds
      div: 1n,
      offsetNs: 0n,
    };
    const end = off + len - 4;
    let o = off + 16;
    while (o + 4 <= end) {
      const code = this.u16(buf, o);
      const olen = this.u16(buf, o + 2);
      if (code === PCAPNG_IDB_OPTION.endOfOptions) break;
      const v = o + 4;
      if (v + olen > end) throw new DecodeError('pcap', 'malformed', 'pcapng interface option overruns block');
      if (code === PCAPNG_IDB_OPTION.tsresol && olen >= 1) this.setResolution(iface, buf[v]!);
      else if (code === PCAPNG_IDB_OPTION.tsoffset && olen >= 8) {
        const secs = this.littleEndian ? buf.readBigInt64LE(v) : buf.readBigInt64BE(v);
        iface.offsetNs = secs * 1_000_000_000n;
      }
      o = v + ((olen + 3) & ~3);
    }
    this.interfaces.push(iface);
  }

  private setResolution(iface: PcapngInterface, r: number): void {
    const exp = BigInt(r & 0x7f);
    if (r & 0x80) {
      // Power of two: ticks of 2^-exp seconds.
      iface.mul = 1_000_000_000n;
      iface.div = 1n << exp;
    } else if (exp <= 9n) {
      iface.mul = 10n ** (9n - exp);
      iface.div = 1n;
    } else {
      iface.mul = 1n;
      iface.div = 10n ** (exp - 9n);
    }
  }

  private packet(buf: Buffer, off: number, len: number, index: number, out: CapturedFrame[], ifId: number, dataAt: number): void {
    if (len < dataAt + 4) throw new DecodeError('pcap', 'malformed', 'pcapng packet block too short');
    const iface = this.interfaces[ifId];
    if (iface === undefined) throw new DecodeError('pcap', 'malformed', `pcapng packet on undeclared interface ${ifId}`);
    const capLen = this.u32(buf, off + 20);
    if (capLen > len - dataAt - 4) throw new DecodeError('pcap', 'malformed', 'pcapng captured length overruns block');
    const ticks = (BigInt(this.u32(buf, off + 12)) << 32n) | BigInt(this.u32(buf, off + 16));
    const scaled = iface.div === 1n ? ticks * iface.mul : (ticks * iface.mul) / iface.div;
    out.push({
      index,
      timeNs: scaled + iface.offsetNs,
      linkType: iface.linkType,
      interfaceId: ifId,
      data: buf.subarray(off + dataAt, off + dataAt + capLen),
      origLength: this.u32(buf, off + 24),
    });
  }

  private simplePacket(buf: Buffer, off: number, len: number, index: number, out: CapturedFrame[]): void {
    if (len < 16) throw new DecodeError('pcap', 'malformed', 'pcapng simple packet block too short');
    const iface = this.interfaces[0];
    if (iface === undefined) throw new DecodeError('pcap', 'malformed', 'pcapng simple packet without an interface');
    const origLength = this.u32(buf, off + 8);
    // No captured-length field: it is the original length cut by the snap length and the block.
    let capLen = Math.min(origLength, len - 16);
    if (iface.snapLength > 0 && capLen > iface.snapLength) capLen = iface.snapLength;
    out.push({
      index,
      timeNs: 0n, // SPBs carry no timestamp
      linkType: iface.linkType,
      interfaceId: 0,
      data: buf.subarray(off + 12, off + 12 + capLen),
      origLength,
    });
  }

  private u16(b: Buffer, o: number): number {
    return this.littleEndian ? b.readUInt16LE(o) : b.readUInt16BE(o);
  }

  private u32(b: Buffer, o: number): number {
    return this.littleEndian ? b.readUInt32LE(o) : b.readUInt32BE(o);
  }
}
