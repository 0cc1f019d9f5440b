// A capture replayed on today's clock: its frames, in order, with their time
// moved so the first frame is `startMs` — live SIP (a SUBSCRIBE sent now) and
// replayed signaling then share one clock in the event manager.
import { captureInput } from '../../taps/inputs/captureInput.ts';
import { isFrame, type TapInput, type TapItem } from '../../taps/pipeline/tapInput.ts';

/** The input's batches, each frame's time moved so the first frame is at `startMs`. */
async function* shifted(src: TapInput, startMs: number): AsyncGenerator<TapItem[]> {
  let offset: bigint | undefined;
  for await (const batch of src.batches) {
    for (const f of batch) {
      if (!isFrame(f)) continue;
      offset ??= BigInt(startMs) * 1_000_000n - f.timeNs;
      f.timeNs += offset;
    }
    yield batch;
  }
}

export function shiftedCapture(file: string, startMs: number): TapInput {
  const src = captureInput(file);
  return { name: src.name, batches: shifted(src, startMs) };
}

/**
 * The same, held after the first `frames` items until `release()`: one tap run
 * (its call correlation intact) replays a call up to its answer, the test looks
 * at the live state, then lets the rest (the release) through. A live input, so
 * the pipeline publishes each item as it comes instead of waiting for a batch.
 */
export function pausedCapture(file: string, startMs: number, frames: number): { input: TapInput; release: () => void } {
  const src = captureInput(file);
  let release = () => {};
  const released = new Promise<void>((r) => (release = r));
  const items = async function* () {
    let n = 0;
    for await (const batch of shifted(src, startMs))
      for (const item of batch) {
        if (n++ === frames) await released;
        yield [item];
      }
  };
  return { input: { name: src.name, batches: items(), live: true }, release };
}
