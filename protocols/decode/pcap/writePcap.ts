// A minimal classic-pcap writer, for generators and tests (tshark reads its output).
import { createWriteStream } from 'node:fs';
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

function pcapFileHeader(opts: PcapWriteOptions): Buffer {
  const b = Buffer.alloc(PCAP_FILE_HEADER_LENGTH);
  const w32 = opts.bigEndian ? b.writeUInt32BE.bind(b) : b.writeUInt32LE.bind(b);
  const w16 = opts.bigEndian ? b.writeUInt16BE.bind(b) : b.writeUInt16LE.bind(b);
  w32(opts.nanosecond ? PCAP_MAGIC.nano : PCAP_MAGIC.micro, 0);
  w16(2, 4);
  w16(4, 6);
  w32(opts.snapLength ?? 262144, 16);
  w32(opts.linkType, 20);
  return b;
}

function pcapRecord(frame: PcapWriteFrame, opts: PcapWriteOptions): Buffer {
  const b = Buffer.alloc(16 + frame.data.length);
  const w32 = opts.bigEndian ? b.writeUInt32BE.bind(b) : b.writeUInt32LE.bind(b);
  const sec = frame.timeNs / 1_000_000_000n;
  const ns = frame.timeNs % 1_000_000_000n;
  w32(Number(sec), 0);
  w32(Number(opts.nanosecond ? ns : ns / 1000n), 4);
  w32(frame.data.length, 8);
  w32(frame.origLength ?? frame.data.length, 12);
  b.set(frame.data, 16);
  return b;
}

/** A whole pcap file in memory (small captures, tests). */
export function buildPcap(frames: Iterable<PcapWriteFrame>, opts: PcapWriteOptions): Buffer {
  const parts = [pcapFileHeader(opts)];
  for (const f of frames) parts.push(pcapRecord(f, opts));
  return Buffer.concat(parts);
}

/** Streams frames to a pcap file; resolves with the number of frames written. */
export async function writePcap(
  path: string,
  frames: Iterable<PcapWriteFrame> | AsyncIterable<PcapWriteFrame>,
  opts: PcapWriteOptions,
): Promise<number> {
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
