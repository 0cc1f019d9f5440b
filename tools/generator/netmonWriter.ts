// Microsoft Network Monitor 2.x capture files (magic "GMBU"), as NetMon 3.x
// and Microsoft Message Analyzer write them, so the readers can be tested on
// the format Windows tools produce without shipping a third-party capture.
// Layout (NetMon 3.x help, "Capture File Format"; Wireshark's wiretap/netmon.c):
// a 128-byte file header, the frames (each: 8-byte time offset in µs from the
// start time, wire length, captured length, the bytes, then from 2.1 on a
// trailer with the frame's media type; from 2.3 also a UTC FILETIME), and at
// the end the frame table: one 32-bit file offset per frame. Little-endian.
import { writeFileSync } from 'node:fs';

export interface NetmonWriteOptions {
  /** Minor version: 0 has no per-frame trailer; 1 adds the media type, 2 the process index, 3 the UTC time (NetMon 3.4's). */
  minor?: 0 | 1 | 2 | 3;
  /** Network (media) type in the file header: 1 = Ethernet. NetMon 3 writes 1 and gives each frame its own from 2.1 on. */
  network?: number;
}

export interface NetmonWriteFrame {
  timeNs: bigint;
  data: Uint8Array;
  /** Defaults to data.length. */
  origLength?: number;
  /** Media type in the frame's trailer (2.1+); defaults to the header's. 0xE000 + n is pcap LINKTYPE n. */
  network?: number;
}

const HEADER_LENGTH = 128;
const FRAME_HEADER_LENGTH = 16;
const TRAILER_LENGTH = { 0: 0, 1: 2, 2: 6, 3: 15 } as const;
/** 100-ns intervals between 1601-01-01 (FILETIME's epoch) and 1970-01-01. */
const FILETIME_UNIX_EPOCH = 116_444_736_000_000_000n;

/** A whole NetMon 2.x file in memory (test captures: a few hundred frames). */
export function buildNetmon(frames: readonly NetmonWriteFrame[], opts: NetmonWriteOptions = {}): Buffer {
  const minor = opts.minor ?? 3;
  const network = opts.network ?? 1;
  // The header's start time is a SYSTEMTIME with milliseconds; frame times are offsets from it.
  const startMs = frames.length > 0 ? frames[0]!.timeNs / 1_000_000n : 0n;
  const startNs = startMs * 1_000_000n;
  const parts: Buffer[] = [];
  const offsets: number[] = [];
  let at = HEADER_LENGTH;
  for (const f of frames) {
    const trailer = TRAILER_LENGTH[minor];
    const b = Buffer.alloc(FRAME_HEADER_LENGTH + f.data.length + trailer);
    b.writeBigInt64LE((f.timeNs - startNs) / 1000n, 0);
    b.writeUInt32LE(f.origLength ?? f.data.length, 8);
    b.writeUInt32LE(f.data.length, 12);
    b.set(f.data, FRAME_HEADER_LENGTH);
    const t = FRAME_HEADER_LENGTH + f.data.length;
    if (minor >= 1) b.writeUInt16LE(f.network ?? network, t);
    if (minor >= 2) b.writeUInt32LE(0, t + 2); // process info index: none
    if (minor >= 3) {
      b.writeBigUInt64LE(f.timeNs / 100n + FILETIME_UNIX_EPOCH, t + 6);
      b.writeUInt8(0, t + 14); // time zone index
    }
    offsets.push(at);
    parts.push(b);
    at += b.length;
  }
  const table = Buffer.alloc(4 * offsets.length);
  offsets.forEach((o, i) => table.writeUInt32LE(o, 4 * i));

  const h = Buffer.alloc(HEADER_LENGTH);
  h.write('GMBU', 0, 'latin1');
  h.writeUInt8(minor, 4);
  h.writeUInt8(2, 5);
  h.writeUInt16LE(network, 6);
  const start = new Date(Number(startMs));
  [
    start.getUTCFullYear(),
    start.getUTCMonth() + 1,
    start.getUTCDay(),
    start.getUTCDate(),
    start.getUTCHours(),
    start.getUTCMinutes(),
    start.getUTCSeconds(),
    start.getUTCMilliseconds(),
  ].forEach((v, i) => h.writeUInt16LE(v, 8 + 2 * i));
  h.writeUInt32LE(at, 24); // frame table offset
  h.writeUInt32LE(table.length, 28); // frame table length
  return Buffer.concat([h, ...parts, table]);
}

/** Writes `frames` as a NetMon 2.x file at `path`. */
export function writeNetmon(path: string, frames: readonly NetmonWriteFrame[], opts: NetmonWriteOptions = {}): void {
  writeFileSync(path, buildNetmon(frames, opts));
}
