// The capture input: a pcap/pcapng file (optionally .gz), or '-' for a pcap
// stream on stdin, which is live capture:
// `tcpdump -i eth1 -U -w - 'sctp or port 5060' | presence replay -`.
import { createReadStream, statSync } from 'node:fs';
import { readCaptureStreamBatches } from '../../protocols/decode/pcap/readCapture.ts';
import type { TapInput, TapInputSpec } from '../pipeline/tapInput.ts';

export interface CaptureInputConfig {
  /** A capture file, or '-' for stdin. */
  file: string;
}

/**
 * A capture as an input; one that ends inside a record is reported through `onTruncated`, and
 * what came before is kept. A record that cannot be parsed ends the input after the frames
 * before it: reported through `onBroken` when given, else thrown.
 */
export function captureInput(file: string, onTruncated?: (file: string, msg: string) => void, onBroken?: (file: string, msg: string) => void): TapInput {
  const opts = {
    onTruncated: (e: { message: string }) => onTruncated?.(file, e.message),
    ...(onBroken ? { onBroken: (e: { message: string }) => onBroken(file, e.message) } : {}),
  };
  if (file === '-') return { name: 'stdin', batches: readCaptureStreamBatches(process.stdin, opts) };
  // Bytes read of the file (compressed bytes for .gz) against its size: the share done.
  const size = statSync(file).size;
  let read = 0;
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const chunk of createReadStream(file, { highWaterMark: CHUNK_BYTES }) as AsyncIterable<Buffer>) {
      read += chunk.length;
      yield chunk;
    }
  }
  return { name: file, batches: readCaptureStreamBatches(counted(), opts), progress: () => (size > 0 ? read / size : 1) };
}

/** Read size of capture files (what readCaptureBatches uses). */
const CHUNK_BYTES = 1 << 20;

export const captureInputSpec: TapInputSpec<CaptureInputConfig> = {
  name: 'capture',
  summary: 'capture files (pcap, pcapng, .gz) or a live pcap stream on stdin',
  fields: {
    file: { description: "capture files; '-' reads a live pcap stream from stdin (e.g. tcpdump -U -w - | presence replay -)" },
  },
  create: (c) => captureInput(c.file),
};
