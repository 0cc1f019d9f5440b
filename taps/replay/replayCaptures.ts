// `presence replay`: capture files (or a live pcap stream on stdin) through
// the taps pipeline → Avro events on the signaling topic, keyed by
// subscriber, at the capture's own pace, N× faster, or as fast as possible.
// Undecodable input goes to the dead-letter topic with its raw bytes.
import type { Settings } from '../../config/settings.ts';
import { captureInput } from '../inputs/captureInput.ts';
import { runTap, type TapPipelineOptions, type TapSummary } from '../pipeline/tapPipeline.ts';

export interface ReplayOptions extends Omit<TapPipelineOptions, 'tap' | 'speed'> {
  speed: number;
  /** Events' source.tap; default 'replay'. */
  tap?: string;
  onTruncated?: (file: string, msg: string) => void;
}

export type ReplaySummary = TapSummary;

export function replayCaptures(s: Settings, files: string[], o: ReplayOptions): Promise<ReplaySummary> {
  return runTap(
    s,
    files.map((f) => captureInput(f, o.onTruncated)),
    { ...o, tap: o.tap ?? 'replay' },
  );
}
