// Push parser for a capture byte stream: feed it chunks as they arrive, get
// back the complete frames; a partial record waits for the next chunk.
// Format (pcap or pcapng) is detected from the first four bytes.
import { DecodeError } from '../layer.ts';
import type { CapturedFrame } from './capturedFrame.ts';
import { PCAP_FILE_HEADER_LENGTH, PCAPNG_BLOCK } from './captureFormat.ts';
import { PcapRecordParser } from './pcapRecords.ts';
import { PcapngBlockParser } from './pcapngBlocks.ts';
import type { RecordParser } from './recordParser.ts';

const EMPTY = Buffer.alloc(0);

export class CaptureParser {
  private pending: Buffer = EMPTY;
  private parser: RecordParser | undefined;
  private nextIndex = 1;
  /** 'pcap' | 'pcapng' once the header has been seen. */
  format: 'pcap' | 'pcapng' | undefined;

  /** Frames completed by this chunk (views into it, or into a join with the previous tail). */
  push(chunk: Buffer): CapturedFrame[] {
    const out: CapturedFrame[] = [];
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
      const used = parser.parse(buf, off, this.nextIndex, out);
      if (used === 0) break;
      off += used;
      if (out.length > 0 && out[out.length - 1]!.index === this.nextIndex) this.nextIndex++;
    }
    this.pending = off === buf.length ? EMPTY : buf.subarray(off);
    return out;
  }

  /** Call at end of input: throws a truncated DecodeError if a partial record is left. */
  end(): void {
    if (this.parser === undefined) {
      throw new DecodeError('pcap', 'truncated', `capture header: only ${this.pending.length} bytes`);
    }
    if (this.pending.length > 0) {
      const left = this.pending.length;
      this.pending = EMPTY;
      throw new DecodeError('pcap', 'truncated', `last record cut short (${left} bytes left over)`);
    }
  }

  private start(buf: Buffer): number {
    if (buf.readUInt32LE(0) === PCAPNG_BLOCK.sectionHeader) {
      this.parser = new PcapngBlockParser();
      this.format = 'pcapng';
      return 0;
    }
    this.parser = new PcapRecordParser(buf);
    this.format = 'pcap';
    return PCAP_FILE_HEADER_LENGTH;
  }
}
