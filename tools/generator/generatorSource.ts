// The synthetic traffic generator as a frame source, so its packets go
// through exactly the same decoding and publishing as a replayed capture
// (`presence generate --to-kafka`, the demo, load benchmarks).
import type { CapturedFrame } from '../../protocols/decode/pcap/capturedFrame.ts';
import { generatePackets, type GenerateOptions } from './generate.ts';
import type { FrameSource } from '../../taps/decodeCapture.ts';

const LINKTYPE_ETHERNET = 1;

export function generatorSource(opts: GenerateOptions, batchSize = 1000): FrameSource {
  async function* batches(): AsyncGenerator<CapturedFrame[]> {
    let batch: CapturedFrame[] = [];
    let index = 0;
    for (const p of generatePackets(opts)) {
      batch.push({ index: ++index, timeNs: p.timeNs, linkType: LINKTYPE_ETHERNET, interfaceId: 0, data: p.frame, origLength: p.frame.length });
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
  }
  return { name: `generator-seed${opts.seed}`, batches: batches() };
}
