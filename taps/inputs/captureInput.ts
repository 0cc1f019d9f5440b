// The capture input: a pcap/pcapng file (optionally .gz), or '-' for a pcap
// stream on stdin, which is live capture:
// `tcpdump -i eth1 -U -w - 'sctp or port 5060' | presence replay -`.
import { readCaptureBatches, readCaptureStreamBatches } from '../../protocols/decode/pcap/readCapture.ts';
import type { TapInput, TapInputSpec } from '../pipeline/tapInput.ts';

export interface CaptureInputConfig {
  /** A capture file, or '-' for stdin. */
  file: string;
}

/** A capture as an input; one that ends inside a record is reported through `onTruncated`, and what came before is kept. */
export function captureInput(file: string, onTruncated?: (file: string, msg: string) => void): TapInput {
  const opts = { onTruncated: (e: { message: string }) => onTruncated?.(file, e.message) };
  if (file === '-') return { name: 'stdin', batches: readCaptureStreamBatches(process.stdin, opts) };
  return { name: file, batches: readCaptureBatches(file, opts) };
}

export const captureInputSpec: TapInputSpec<CaptureInputConfig> = {
  name: 'capture',
  summary: 'capture files (pcap, pcapng, .gz) or a live pcap stream on stdin',
  fields: {
    file: { description: "capture files; '-' reads a live pcap stream from stdin (e.g. tcpdump -U -w - | presence replay -)" },
  },
  create: (c) => captureInput(c.file),
};
