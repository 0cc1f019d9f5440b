// Microsoft Network Monitor 2.x files (magic "GMBU"; NetMon 2/3, Message
// Analyzer exports). The frames are found through the frame table at the end
// of the file (frames need not follow one another: Wireshark's netmon.c has
// seen gaps and out-of-order records), so a stream is held until the table
// has arrived and the frames are handed out then — a NetMon file costs its
// size in memory, unlike pcap and pcapng. Each frame: time offset from the
// header's start time (µs, signed after ×10 as Wireshark reads it), wire
// length, captured length, the bytes, then from 2.1 on a trailer whose first
// field is the frame's media type and, from 2.3, its UTC time as a FILETIME.
// NetMon 1.x ("RTSS") is refused, with how to convert it.
import { DecodeError } from '../layer.ts';
import type { CapturedFrame } from './capturedFrame.ts';
import {
  FILETIME_UNIX_EPOCH,
  MAX_RECORD_LENGTH,
  NETMON_FILE_HEADER_LENGTH,
  NETMON_LINKTYPE,
  NETMON_MAGIC,
  NETMON_PCAP_BASE,
  NETMON_SKIPPED_METADATA,
  NETMON_TRAILER_LENGTH,
  NETMON_UNMAPPED,
} from './captureFormat.ts';
import type { RecordParser } from './recordParser.ts';

const FRAME_HEADER_LENGTH = 16;
const CONVERT_HINT = "convert it with Wireshark's `editcap -F pcapng in.cap out.pcapng`";

export class NetmonFrameParser implements RecordParser {
  private readonly chunks: Buffer[] = [];
  private held = 0;
  private header: { minor: number; network: number; startNs: bigint; tableOffset: number; tableLength: number } | undefined;
  private done = false;

  /** Throws for NetMon 1.x and versions we do not know: `magic` is the file's first 4 bytes, read little-endian. */
  static check(magic: number, major: number): void {
    const name = magic === NETMON_MAGIC.v1 || major === 1 ? 'Microsoft Network Monitor 1.x' : `Microsoft Network Monitor ${major}.x`;
    if (magic !== NETMON_MAGIC.v2 || major !== 2) throw new DecodeError('pcap', 'unsupported', `${name} capture: not supported; ${CONVERT_HINT}`);
  }

  /** Keeps every byte until the frame table is in, then emits all frames at once. */
  parse(buf: Buffer, off: number, index: number, out: CapturedFrame[]): number {
    const left = buf.length - off;
    if (left === 0) return 0;
    if (this.done) return left; // comment and process tables after the frame table: not frames
    this.chunks.push(buf.subarray(off));
    this.held += left;
    if (!this.header && this.held >= NETMON_FILE_HEADER_LENGTH) this.header = this.readHeader(this.joined());
    if (this.header && this.held >= this.header.tableOffset + this.header.tableLength) {
      this.emit(this.joined(), index, out);
      this.chunks.length = 0;
      this.done = true;
    }
    return left;
  }

  end(): void {
    if (this.done) return;
    const version = this.header ? `2.${this.header.minor}` : '2.x';
    const where = this.header ? ` at ${this.header.tableOffset}–${this.header.tableOffset + this.header.tableLength}` : '';
    throw new DecodeError(
      'pcap',
      'truncated',
      `Microsoft Network Monitor ${version} file ends before its frame table${where} (${this.held} bytes); its frames cannot be found without it`,
    );
  }

  private joined(): Buffer {
    if (this.chunks.length > 1) this.chunks.splice(0, this.chunks.length, Buffer.concat(this.chunks));
    return this.chunks[0]!;
  }

  private readHeader(b: Buffer): NonNullable<NetmonFrameParser['header']> {
    NetmonFrameParser.check(b.readUInt32LE(0), b.readUInt8(5));
    const minor = b.readUInt8(4);
    // SYSTEMTIME (year, month, weekday, day, h, m, s, ms): the zone is not recorded; taken as UTC (2.3 frames carry UTC themselves).
    const [year, month, , day, hour, min, sec, ms] = Array.from({ length: 8 }, (_, i) => b.readUInt16LE(8 + 2 * i));
    const startMs = Date.UTC(year!, month! - 1, day, hour, min, sec, ms);
    if (Number.isNaN(startMs)) throw new DecodeError('pcap', 'malformed', 'NetMon start time is no date');
    const startNs = BigInt(startMs) * 1_000_000n;
    const tableOffset = b.readUInt32LE(24);
    const tableLength = b.readUInt32LE(28);
    if (tableLength === 0 || tableLength % 4 !== 0)
      throw new DecodeError('pcap', 'malformed', `NetMon frame table length ${tableLength} is not a positive multiple of 4`);
    if (tableOffset < NETMON_FILE_HEADER_LENGTH)
      throw new DecodeError('pcap', 'malformed', `NetMon frame table offset ${tableOffset} lies inside the file header`);
    return { minor: Math.min(minor, 3), network: b.readUInt16LE(6), startNs, tableOffset, tableLength };
  }

  private emit(file: Buffer, firstIndex: number, out: CapturedFrame[]): void {
    const h = this.header!;
    const trailer = NETMON_TRAILER_LENGTH[h.minor]!;
    let index = firstIndex;
    for (let t = h.tableOffset; t < h.tableOffset + h.tableLength; t += 4) {
      const at = file.readUInt32LE(t);
      if (at + FRAME_HEADER_LENGTH > file.length)
        throw new DecodeError('pcap', 'malformed', `NetMon frame table entry ${(t - h.tableOffset) / 4} points past the end (${at})`);
      const capLen = file.readUInt32LE(at + 12);
      if (capLen > MAX_RECORD_LENGTH || at + FRAME_HEADER_LENGTH + capLen + trailer > file.length) {
        throw new DecodeError('pcap', 'malformed', `NetMon frame at ${at} claims ${capLen} captured bytes`);
      }
      const dataEnd = at + FRAME_HEADER_LENGTH + capLen;
      const network = trailer > 0 ? file.readUInt16LE(dataEnd) : h.network;
      if (NETMON_SKIPPED_METADATA.has(network)) continue;
      // Microsoft's odd definition, as Wireshark applies it: µs × 10, then read as signed 100-ns units.
      const deltaNs = BigInt.asIntN(64, file.readBigUInt64LE(at) * 10n) * 100n;
      const timeNs = h.minor >= 3 ? (file.readBigUInt64LE(dataEnd + 6) - FILETIME_UNIX_EPOCH) * 100n : h.startNs + deltaNs;
      out.push({
        index: index++,
        timeNs,
        linkType: linkTypeOf(network),
        interfaceId: 0,
        data: file.subarray(at + FRAME_HEADER_LENGTH, dataEnd),
        origLength: file.readUInt32LE(at + 8),
      });
    }
  }
}

function linkTypeOf(network: number): number {
  if ((network & 0xf000) === NETMON_PCAP_BASE && network < 0xe080) return network & 0x0fff;
  return NETMON_LINKTYPE[network] ?? NETMON_UNMAPPED + network;
}
