// What the classic-pcap, pcapng and NetMon parsers share: each parses one record or
// block at a time out of a buffer the streaming reader keeps filling.
import type { CapturedFrame } from './capturedFrame.ts';

export interface RecordParser {
  /**
   * Parses the record at `off`. Returns the bytes consumed, or 0 when the
   * buffer does not yet hold the whole record. A packet record pushes one
   * frame (numbered `index`) to `out`; other records push nothing. (NetMon's
   * parser pushes all frames, numbered from `index`, once its table is in.)
   */
  parse(buf: Buffer, off: number, index: number, out: CapturedFrame[]): number;
  /** At end of input, for a parser that holds bytes itself: throws a truncated DecodeError if it could not finish. */
  end?(): void;
}
