// Push parser for a capture byte stream: feed it chunks as they arrive, get
// back the complete frames; a partial record waits for the next chunk.
// Format (pcap, pcapng or Microsoft NetMon) is detected from the first four bytes.
import { DecodeError } from '../layer.ts';
import type { CapturedFrame } from './capturedFrame.ts';
import { NETMON_MAGIC, PCAP_FILE_HEADER_LENGTH, PCAPNG_BLOCK } from './captureFormat.ts';
import { NetmonFrameParser } from './netmonFrames.ts';
import { PcapRecordParser } from './pcapRecords.ts';
import { PcapngBlockParser } from './pcapngBlocks.ts';
import type { RecordParser } from './recordParser.ts';

const EMPTY = Buffer.alloc(0);

export class CaptureParser {
  private pending: Buffer = EMPTY;
  private parser: RecordParser | undefined;
  private nextIndex = 1;
  /** Byte offset in the capture of `pending`'s first byte. */
  private base = 0;
  /**
   * A record that cannot be parsed (e.g. its header claims 2^31 bytes). Record boundaries after
   * it are unknown, so parsing stops there; the frames before it were returned. Named by the
   * record's number and byte offset.
   */
  broken: DecodeError | undefined;
  /** Known once the header has been seen. */
  format: 'pcap' | 'pcapng' | 'netmon' | undefined;

  /** Frames completed by this chunk (views into it, or into a join with the previous tail). */
  push(chunk: Buffer): CapturedFrame[] {
    const out: CapturedFrame[] = [];
    if (this.broken) return out;
    // Only the unparsed tail (less than one record) is copied when joining.
    const buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let off = 0;
    if (this.parser === undefined) {
      if (buf.length < PCAP_FILE_HEADER_LENGTH) {
        this.pending = buf;
        return out;
      }
      off = this.start(buf);
    }
    const parser = this.parser!;
    for (;;) {
      let used: number;
      try {
        used = parser.parse(buf, off, this.nextIndex, out);
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        // Keep what was parsed before it; the caller delivers those frames, then reports this.
        const detail = err.message.slice(`${err.layer}: ${err.reason}: `.length);
        this.broken = new DecodeError(err.layer, err.reason, `record ${this.nextIndex} at byte offset ${this.base + off}: ${detail}`);
        this.pending = EMPTY;
        return out;
      }
      if (used === 0) break;
      off += used;
      if (out.length > 0) this.nextIndex = out[out.length - 1]!.index + 1;
    }
    this.base += off;
    this.pending = off === buf.length ? EMPTY : buf.subarray(off);
    return out;
  }

  /** Call at end of input: throws a truncated DecodeError if a partial record is left. */
  end(): void {
    if (this.broken) return;
    if (this.parser === undefined) {
      throw new DecodeError('pcap', 'truncated', `capture header: only ${this.pending.length} bytes`);
    }
    if (this.pending.length > 0) {
      const left = this.pending.length;
      this.pending = EMPTY;
      throw new DecodeError('pcap', 'truncated', `last record cut short (${left} bytes left over)`);
    }
    this.parser.end?.();
  }

  private start(buf: Buffer): number {
    if (buf.readUInt32LE(0) === PCAPNG_BLOCK.sectionHeader) {
      this.parser = new PcapngBlockParser();
      this.format = 'pcapng';
      return 0;
    }
    const magic = buf.readUInt32LE(0);
    if (magic === NETMON_MAGIC.v2 || magic === NETMON_MAGIC.v1) {
      NetmonFrameParser.check(magic, buf.readUInt8(5));
      this.parser = new NetmonFrameParser();
      this.format = 'netmon';
      return 0;
    }
    this.parser = new PcapRecordParser(buf);
    this.format = 'pcap';
    return PCAP_FILE_HEADER_LENGTH;
  }
}
