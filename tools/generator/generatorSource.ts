// The synthetic traffic generator as a tap input, so its packets go through
// exactly the same decoding and publishing as a replayed capture
// (`presence generate --to-kafka`, the demo, load benchmarks).
import type { CapturedFrame } from '../../protocols/decode/pcap/capturedFrame.ts';
import { LINKTYPE } from '../../protocols/decode/link/linkTypes.ts';
import { generatePackets, type GenerateOptions } from './generate.ts';
import type { TapInput } from '../../taps/pipeline/tapInput.ts';

export function generatorSource(opts: GenerateOptions, batchSize = 1000): TapInput {
  // Simulated time covered against the run's duration: the share done.
  let firstNs: bigint | undefined;
  let lastNs: bigint | undefined;
  async function* batches(): AsyncGenerator<CapturedFrame[]> {
    let batch: CapturedFrame[] = [];
    let index = 0;
    for (const p of generatePackets(opts)) {
      firstNs ??= p.timeNs;
      lastNs = p.timeNs;
      batch.push({ index: ++index, timeNs: p.timeNs, linkType: LINKTYPE.ethernet, interfaceId: 0, data: p.frame, origLength: p.frame.length });
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
  }
  const progress = () => (firstNs === undefined || lastNs === undefined ? 0 : Number(lastNs - firstNs) / 1e9 / opts.durationSeconds);
  return { name: `generator-seed${opts.seed}`, batches: batches(), progress };
}
