// A capture replayed on today's clock: its frames, in order, with their time
// moved so the first frame is `startMs` — live SIP (a SUBSCRIBE sent now) and
// replayed signaling then share one clock in the event manager.
import { captureInput } from '../../taps/inputs/captureInput.ts';
import { isFrame, type TapInput } from '../../taps/pipeline/tapInput.ts';

export function shiftedCapture(file: string, startMs: number): TapInput {
  const src = captureInput(file);
  return {
    name: src.name,
    batches: (async function* () {
      let offset: bigint | undefined;
      for await (const batch of src.batches) {
        for (const f of batch) {
          if (!isFrame(f)) continue;
          offset ??= BigInt(startMs) * 1_000_000n - f.timeNs;
          f.timeNs += offset;
        }
        yield batch;
      }
    })(),
  };
}
