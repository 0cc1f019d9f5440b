// Classic libpcap file writer (the format tcpdump and Wireshark read by
// default). Records are copied into a large output buffer and flushed with
// one write per few megabytes, so writing millions of packets stays cheap.
import { closeSync, openSync, writeSync } from 'node:fs';

export const LINKTYPE_ETHERNET = 1;

/** Magic numbers: the nanosecond variant changes only the magic. */
const MAGIC_MICROS = 0xa1b2c3d4;
const MAGIC_NANOS = 0xa1b23c4d;
const RECORD_HEADER = 16;

export interface PcapWriterOptions {
  /** Nanosecond timestamps (magic a1b23c4d) instead of microseconds. */
  nanos?: boolean;
  snaplen?: number;
  linktype?: number;
  /** Output buffer size in bytes. */
  bufferBytes?: number;
}

export class PcapWriter {
  private readonly fd: number;
  private readonly out: Buffer;
  private pos = 0;
  private readonly nanos: boolean;
  private readonly snaplen: number;
  packets = 0;
  bytes = 0;

  constructor(path: string, opts: PcapWriterOptions = {}) {
    this.nanos = opts.nanos ?? false;
    this.snaplen = opts.snaplen ?? 65535;
    this.out = Buffer.allocUnsafe(Math.max(opts.bufferBytes ?? 4 << 20, 1 << 17));
    this.fd = openSync(path, 'w');
    // Global header, little-endian (the reader detects byte order by magic).
    const b = this.out;
    b.writeUInt32LE(this.nanos ? MAGIC_NANOS : MAGIC_MICROS, 0);
    b.writeUInt16LE(2, 4);
    b.writeUInt16LE(4, 6);
    b.writeInt32LE(0, 8); // thiszone
    b.writeUInt32LE(0, 12); // sigfigs
    b.writeUInt32LE(this.snaplen, 16);
    b.writeUInt32LE(opts.linktype ?? LINKTYPE_ETHERNET, 20);
    this.pos = 24;
  }

  /**
   * Appends one record. Time is split into whole seconds and nanoseconds by
   * the caller so no BigInt is needed on the hot path.
   */
  write(seconds: number, nanoseconds: number, frame: Uint8Array): void {
    const caplen = Math.min(frame.length, this.snaplen);
    if (this.pos + RECORD_HEADER + caplen > this.out.length) this.flush();
    if (RECORD_HEADER + caplen > this.out.length) throw new Error(`pcap: frame of ${caplen} bytes exceeds the buffer`);
    const b = this.out;
    let p = this.pos;
    b.writeUInt32LE(seconds >>> 0, p);
    b.writeUInt32LE((this.nanos ? nanoseconds : Math.floor(nanoseconds / 1000)) >>> 0, p + 4);
    b.writeUInt32LE(caplen, p + 8);
    b.writeUInt32LE(frame.length, p + 12);
    p += RECORD_HEADER;
    b.set(caplen === frame.length ? frame : frame.subarray(0, caplen), p);
    this.pos = p + caplen;
    this.packets++;
    this.bytes += frame.length;
  }

  /** Convenience for callers holding a BigInt nanosecond epoch time. */
  writeNs(timeNs: bigint, frame: Uint8Array): void {
    this.write(Number(timeNs / 1_000_000_000n), Number(timeNs % 1_000_000_000n), frame);
  }

  flush(): void {
    let off = 0;
    while (off < this.pos) off += writeSync(this.fd, this.out, off, this.pos - off);
    this.pos = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}
