// The one taps pipeline: input items → decode and correlate (DecodeStage) →
// resolve subscribers (SubscriberResolver, a directory lookup per batch) →
// build events (eventBuilder) → publish (SignalingPublisher), undecodable
// input to the dead-letter topic with its raw bytes. Replay, live capture on
// stdin, HEP and the generator differ only in their input.
import os from 'node:os';
import type { Settings } from '../../config/settings.ts';
import { deadLetter } from '../../kafka/deadLetters.ts';
import type { DeadLetter, SignalingEvent } from '../../schemas/generated/records.ts';
import type { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { numberingPlan } from '../../subscriber/numberingPlan.ts';
import type { NumberingPlan } from '../../subscriber/identity/msisdn.ts';
import { signalingEvents } from '../eventBuilder.ts';
import { ReplayPacer } from '../replay/pacer.ts';
import type { DecodedSignal } from '../signal.ts';
import { SignalingPublisher } from '../signalingPublisher.ts';
import { SubscriberResolver, type UnknownPolicy } from '../subscriberResolver.ts';
import { DecodeStage, emptyDecodeSummary, type Decoded, type DecodeSummary, type Provenance } from './decodeStage.ts';
import { isFrame, type TapInput } from './tapInput.ts';

/** What the pipeline needs of a publisher (SignalingPublisher; tests may pass a slow one). */
export interface TapPublisher {
  readonly stats: { events: number; deadLetters: number };
  connect(): Promise<void>;
  publish(e: SignalingEvent): Promise<void>;
  deadLetter(d: DeadLetter): Promise<void>;
  /** Waits for every record to be acknowledged (optional: close() waits too). */
  drain?(): Promise<void>;
  close(): Promise<void>;
}

export interface TapPipelineOptions {
  /** Events' source.tap and dead letters' context.tap: 'replay', 'hep', 'generator'. */
  tap: string;
  unknown: UnknownPolicy;
  directory?: SubscriberDirectory;
  countryCode?: string;
  /** Pace: 1 = the capture's own timing, N× faster, Infinity = as fast as possible (default). */
  speed?: number;
  /** Signals per directory lookup (default 2000 unpaced, 1 paced). */
  batchSize?: number;
  /** Every 1000 frames. */
  onProgress?: (frames: number, events: number) => void;
  clientId?: string;
  /** Records the publisher may have unacknowledged before it makes us wait. */
  maxInFlight?: number;
  /** Replaces the Kafka publisher (tests). */
  publisher?: TapPublisher;
}

export interface TapSummary extends DecodeSummary {
  events: number;
  deadLetters: number;
  /** Dead letters by `layer.reason`, whether the decoder or the input rejected the bytes. */
  deadLettersByReason: Record<string, number>;
  notSubscriber: number;
  noIdentity: number;
  learned: number;
  seconds: number;
}

export class TapPipeline {
  readonly publisher: TapPublisher;
  private readonly resolver: SubscriberResolver;
  private readonly plan: NumberingPlan;
  private readonly pacer: ReplayPacer;
  private readonly batchSize: number;
  private readonly decoded = emptyDecodeSummary();
  private readonly deadByReason: Record<string, number> = Object.create(null);
  private readonly started = Date.now();
  private batch: Array<{ signal: DecodedSignal; from: Provenance }> = [];
  private stage: DecodeStage | undefined;

  constructor(
    s: Settings,
    private readonly o: TapPipelineOptions,
  ) {
    const speed = o.speed ?? Infinity;
    this.publisher = o.publisher ?? new SignalingPublisher(s, o.clientId ?? `presence-replay-${os.hostname()}-${process.pid}`, o.maxInFlight);
    this.resolver = new SubscriberResolver(o.directory, o.unknown);
    this.plan = numberingPlan(s, o.countryCode);
    this.pacer = new ReplayPacer(speed);
    this.batchSize = o.batchSize ?? (speed === Infinity ? 2000 : 1);
  }

  connect(): Promise<void> {
    return this.publisher.connect();
  }

  /** Runs one input to its end: everything it produced is handed to the publisher (not yet acknowledged: see drain). */
  async run(input: TapInput): Promise<void> {
    const stage = new DecodeStage(input, this.o.tap, this.plan, this.decoded);
    this.stage = stage;
    const paced = this.pacer.speed !== Infinity;
    for await (const items of input.batches) {
      for (const item of items) {
        if (isFrame(item)) {
          if (paced && this.pacer.delayFor(item.timeNs) >= 1) {
            await this.flush(input);
            await this.pacer.wait(item.timeNs);
          }
          if ((this.decoded.frames + 1) % 1000 === 0) this.o.onProgress?.(this.decoded.frames + 1, this.publisher.stats.events);
        }
        const out = stage.push(item);
        if (out.length) await this.take(out, input);
      }
      if (input.live) await this.flush(input);
    }
    const rest = stage.finish();
    if (rest.length) await this.take(rest, input);
    await this.flush(input);
    this.stage = undefined;
  }

  private async take(out: Decoded[], input: TapInput): Promise<void> {
    // The stage reuses its array: take the items out before awaiting.
    for (const d of out.splice(0)) {
      if (d.kind === 'signal') {
        this.batch.push({ signal: d.signal, from: d.from });
        if (this.batch.length >= this.batchSize) await this.flush(input);
        continue;
      }
      const raw = (r: Buffer) => (input.maxDeadLetterBytes !== undefined ? Buffer.from(r.subarray(0, input.maxDeadLetterBytes)) : r);
      let letter: DeadLetter;
      if (d.kind === 'failure') {
        const f = d.failure;
        letter = deadLetter('tap', f.layer, f.reason, f.message, raw(f.raw), `${d.from.capture}#${f.frame}`, d.from.context, Number(f.timeNs / 1_000_000n));
      } else {
        const r = d.item;
        letter = deadLetter('tap', r.layer, r.reason, r.message, raw(r.raw), r.origin, r.context, r.time);
      }
      const key = `${letter.layer}.${letter.reason}`;
      this.deadByReason[key] = (this.deadByReason[key] ?? 0) + 1;
      await this.publishing(input, () => this.publisher.deadLetter(letter));
    }
  }

  /** One directory lookup for the batch, then its events in order. */
  private async flush(input: TapInput): Promise<void> {
    if (this.batch.length === 0) return;
    const current = this.batch;
    this.batch = [];
    await this.resolver.prepare(current.map((b) => b.signal));
    for (const { signal, from } of current) {
      for (const e of signalingEvents(signal, { tap: this.o.tap, capture: from.capture }, this.resolver.keyOf)) {
        await this.publishing(input, () => this.publisher.publish(e));
      }
    }
  }

  private async publishing(input: TapInput, send: () => Promise<void>): Promise<void> {
    if (!input.publisherBlocked) return send();
    // A publish call only waits when the in-flight window is full.
    input.publisherBlocked(true);
    try {
      await send();
    } finally {
      input.publisherBlocked(false);
    }
  }

  /** Waits until Kafka acknowledged everything handed over; throws the first delivery failure. */
  async drain(): Promise<void> {
    await this.publisher.drain?.();
  }

  close(): Promise<void> {
    return this.publisher.close();
  }

  get summary(): TapSummary {
    const skipped = { ...this.decoded.skipped };
    for (const [k, v] of Object.entries(this.stage?.skipped ?? {})) skipped[k] = (skipped[k] ?? 0) + v;
    return {
      ...this.decoded,
      byMessage: { ...this.decoded.byMessage },
      failures: { ...this.decoded.failures },
      skipped,
      events: this.publisher.stats.events,
      deadLetters: this.publisher.stats.deadLetters,
      deadLettersByReason: { ...this.deadByReason },
      notSubscriber: this.resolver.stats.notSubscriber,
      noIdentity: this.resolver.stats.noIdentity,
      learned: this.resolver.stats.learned,
      seconds: (Date.now() - this.started) / 1000,
    };
  }
}

/** Runs inputs one after another through one pipeline, waits for Kafka's acknowledgements, closes. */
export async function runTap(s: Settings, inputs: TapInput[], o: TapPipelineOptions): Promise<TapSummary> {
  const pipeline = new TapPipeline(s, o);
  await pipeline.connect();
  try {
    for (const input of inputs) await pipeline.run(input);
    await pipeline.drain();
  } finally {
    await pipeline.close().catch(() => {});
  }
  return pipeline.summary;
}
