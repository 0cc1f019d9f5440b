// The pipeline's first stage, for one input: items → SignalingDecoder
// (dissect, decode, correlate) → signals and failures, each with where it came
// from (events' source.capture; dead letters' origin and context). Also what
// `presence decode` runs, without Kafka. Keeps the counts of the summary.
import path from 'node:path';
import type { NumberingPlan } from '../../subscriber/identity/msisdn.ts';
import type { DecodedSignal } from '../signal.ts';
import { SignalingDecoder, type DecodeFailure } from '../signalingDecoder.ts';
import { isFrame, type HepItem, type RejectedItem, type TapInput, type TapItem } from './tapInput.ts';

export interface DecodeSummary {
  frames: number;
  signals: number;
  /** `${protocol} ${message}` → count */
  byMessage: Record<string, number>;
  /** `${layer}.${reason}` → count */
  failures: Record<string, number>;
  skipped: Record<string, number>;
}

export const emptyDecodeSummary = (): DecodeSummary => ({ frames: 0, signals: 0, byMessage: {}, failures: {}, skipped: {} });

/** Where an output came from: `capture` names it in events and dead-letter origins; `context` goes on dead letters. */
export interface Provenance {
  capture: string;
  context: Record<string, string>;
}

export type Decoded =
  | { kind: 'signal'; signal: DecodedSignal; from: Provenance }
  | { kind: 'failure'; failure: DecodeFailure; from: Provenance }
  | { kind: 'rejected'; item: RejectedItem };

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

export class DecodeStage {
  private readonly decoder: SignalingDecoder;
  private readonly out: Decoded[] = [];
  /** Frames of a capture: one provenance for the whole input. */
  private readonly frameProvenance: Provenance;
  private from: Provenance;
  /** A HEP packet being decoded: its number and time replace the decoder's frame bookkeeping. */
  private hep: { number: number; timeNs: bigint } | undefined;

  constructor(
    input: TapInput,
    private readonly tap: string,
    plan: NumberingPlan,
    private readonly summary: DecodeSummary,
  ) {
    this.frameProvenance = { capture: path.basename(input.name), context: { tap, capture: input.name } };
    this.from = this.frameProvenance;
    this.decoder = new SignalingDecoder(
      {
        signal: (signal) => {
          if (this.hep) signal.frame = this.hep.number;
          this.summary.signals++;
          const k = `${signal.protocol} ${signal.message}`;
          this.summary.byMessage[k] = (this.summary.byMessage[k] ?? 0) + 1;
          this.out.push({ kind: 'signal', signal, from: this.from });
        },
        failure: (failure) => {
          if (this.hep) {
            failure.frame = this.hep.number;
            failure.timeNs = this.hep.timeNs;
          }
          this.out.push({ kind: 'failure', failure, from: this.from });
        },
      },
      { plan },
    );
  }

  /** Decodes one item; what it produced is valid until the next call. */
  push(item: TapItem): Decoded[] {
    this.out.length = 0;
    if (isFrame(item)) {
      this.summary.frames++;
      this.from = this.frameProvenance;
      this.decoder.decodeFrame(item);
    } else if (item.kind === 'hep') {
      this.summary.frames++;
      this.decodeHep(item);
    } else this.out.push({ kind: 'rejected', item });
    return this.out;
  }

  private decodeHep(item: HepItem): void {
    const h = item.packet;
    // HEP v1 has no capture time: arrival time is the best there is.
    const timeNs = h.timeNs || BigInt(Date.now()) * 1_000_000n;
    this.from = { capture: item.capture, context: { tap: this.tap, capture: item.capture, ...item.context } };
    this.hep = { number: item.number, timeNs };
    try {
      this.decoder.decodeHepPacket(h.timeNs ? h : { ...h, timeNs });
    } catch (err) {
      // The decoder turns bad input into failures itself; this is a bug
      // somewhere below it, kept as a dead letter rather than a crash.
      const e = asError(err);
      this.out.push({
        kind: 'failure',
        failure: { frame: item.number, timeNs, layer: 'tap', reason: 'malformed', message: `unexpected ${e.name}: ${e.message}`, raw: h.payload },
        from: this.from,
      });
    } finally {
      this.hep = undefined;
    }
  }

  /** End of input: flushes partial streams and reassemblies, and adds the decoder's counts to the summary. */
  finish(): Decoded[] {
    this.out.length = 0;
    this.from = this.frameProvenance;
    this.decoder.finish();
    for (const [k, v] of Object.entries(this.decoder.failures)) this.summary.failures[k] = (this.summary.failures[k] ?? 0) + v;
    for (const [k, v] of Object.entries(this.decoder.skipped)) this.summary.skipped[k] = (this.summary.skipped[k] ?? 0) + v;
    return this.out;
  }

  /** Skipped input so far (live inputs report it before they finish). */
  get skipped(): Record<string, number> {
    return this.decoder.skipped;
  }
}
