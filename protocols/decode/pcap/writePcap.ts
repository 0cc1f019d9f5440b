// Classic libpcap file writing (the format tcpdump and Wireshark read by
// default; tshark reads ours in the tests): PcapWriter for the generator's
// millions of packets, writePcap/buildPcap for tests' handfuls of frames.
import { closeSync, createWriteStream, openSync, writeSync } from 'node:fs';
import { once } from 'node:events';
import { PCAP_FILE_HEADER_LENGTH, PCAP_MAGIC } from './captureFormat.ts';

interface PcapWriteOptions {
  /** LINKTYPE_* written in the file header (1 = Ethernet). */
  linkType: number;
  /** Nanosecond timestamps (magic a1b23c4d) instead of microseconds. */
  nanosecond?: boolean;
  /** Write big-endian instead of little-endian. */
  bigEndian?: boolean;
  snapLength?: number;
}

interface PcapWriteFrame {
  timeNs: bigint;
  data: Uint8Array;
  /** Defaults to data.length. */
  origLength?: number;
}

const DEFAULT_SNAP_LENGTH = 262144;

export function pcapFileHeader(opts: PcapWriteOptions): Buffer {
  const b = Buffer.alloc(PCAP_FILE_HEADER_LENGTH);
  const w32 = opts.bigEndian ? b.writeUInt32BE.bind(b) : b.writeUInt32LE.bind(b);
  const w16 = opts.bigEndian ? b.writeUInt16BE.bind(b) : b.writeUInt16LE.bind(b);
  w32(opts.nanosecond ? PCAP_MAGIC.nano : PCAP_MAGIC.micro, 0);
  w16(2, 4);
  w16(4, 6);
  w32(opts.snapLength ?? DEFAULT_SNAP_LENGTH, 16);
  w32(opts.linkType, 20);
  return b;
}

const RECORD_HEADER = 16;

export function pcapRecord(frame: PcapWriteFrame, opts: PcapWriteOptions): Buffer {
  const b = Buffer.alloc(RECORD_HEADER + frame.data.length);
  const w32 = opts.bigEndian ? b.writeUInt32BE.bind(b) : b.writeUInt32LE.bind(b);
  const sec = frame.timeNs / 1_000_000_000n;
  const ns = frame.timeNs % 1_000_000_000n;
  w32(Number(sec), 0);
  w32(Number(opts.nanosecond ? ns : ns / 1000n), 4);
  w32(frame.data.length, 8);
  w32(frame.origLength ?? frame.data.length, 12);
  b.set(frame.data, RECORD_HEADER);
  return b;
}

/** A whole pcap file in memory (small captures, tests). */
export function buildPcap(frames: Iterable<PcapWriteFrame>, opts: PcapWriteOptions): Buffer {
  const parts = [pcapFileHeader(opts)];
  for (const f of frames) parts.push(pcapRecord(f, opts));
  return Buffer.concat(parts);
}

/** Streams frames to a pcap file; resolves with the number of frames written. */
export async function writePcap(path: string, frames: Iterable<PcapWriteFrame> | AsyncIterable<PcapWriteFrame>, opts: PcapWriteOptions): Promise<number> {
  const out = createWriteStream(path);
  let n = 0;
  try {
    if (!out.write(pcapFileHeader(opts))) await once(out, 'drain');
    for await (const f of frames) {
      if (!out.write(pcapRecord(f, opts))) await once(out, 'drain');
      n++;
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
  return n;
}

export interface PcapWriterOptions extends PcapWriteOptions {
  /** Output buffer size in bytes. */
  bufferBytes?: number;
}

/**
 * A pcap file written through one large output buffer, flushed with one
 * write per few megabytes, so writing millions of packets stays cheap.
 * Frames longer than the snap length are cut to it (the wire length is kept).
 */
export class PcapWriter {
  private readonly fd: number;
  private readonly out: Buffer;
  private pos = 0;
  private readonly nanosecond: boolean;
  private readonly bigEndian: boolean;
  private readonly snapLength: number;
  packets = 0;
  bytes = 0;

  constructor(path: string, opts: PcapWriterOptions) {
    this.nanosecond = opts.nanosecond ?? false;
    this.bigEndian = opts.bigEndian ?? false;
    const header = pcapFileHeader(opts);
    this.snapLength = opts.snapLength ?? DEFAULT_SNAP_LENGTH;
    this.out = Buffer.allocUnsafe(Math.max(opts.bufferBytes ?? 4 << 20, 1 << 17));
    this.fd = openSync(path, 'w');
    this.out.set(header, 0);
    this.pos = header.length;
  }

  /**
   * Appends one record. Time is split into whole seconds and nanoseconds by
   * the caller so no BigInt is needed on the hot path.
   */
  write(seconds: number, nanoseconds: number, frame: Uint8Array): void {
    const caplen = Math.min(frame.length, this.snapLength);
    if (this.pos + RECORD_HEADER + caplen > this.out.length) this.flush();
    if (RECORD_HEADER + caplen > this.out.length) throw new Error(`pcap: frame of ${caplen} bytes exceeds the buffer`);
    const b = this.out;
    let p = this.pos;
    const w32 = this.bigEndian ? (v: number, at: number) => b.writeUInt32BE(v, at) : (v: number, at: number) => b.writeUInt32LE(v, at);
    w32(seconds >>> 0, p);
    w32((this.nanosecond ? nanoseconds : Math.floor(nanoseconds / 1000)) >>> 0, p + 4);
    w32(caplen, p + 8);
    w32(frame.length, p + 12);
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
