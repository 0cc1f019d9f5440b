// `presence replay`: capture files → decoded signaling → Avro events on the
// signaling topic, keyed by subscriber, at the capture's own pace, N× faster,
// or as fast as possible. Undecodable input goes to the dead-letter topic
// with its raw bytes. Signals are handled in batches so identity lookups and
// publishing amortise.
import path from 'node:path';
import type { Settings } from '../../config/settings.ts';
import type { CapturedFrame } from '../../protocols/decode/pcap/capturedFrame.ts';
import { deadLetter } from '../../kafka/deadLetters.ts';
import { captureFileSource, decodeSources, type DecodeSummary, type FrameSource } from '../decodeCapture.ts';
import { signalingEvents } from '../eventBuilder.ts';
import { numberingPlan } from '../../subscriber/numberingPlan.ts';
import type { DecodedSignal } from '../signal.ts';
import { SignalingPublisher } from '../signalingPublisher.ts';
import type { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { SubscriberResolver, type UnknownPolicy } from '../subscriberResolver.ts';
import { ReplayPacer } from './pacer.ts';

export interface ReplayOptions {
  speed: number;
  unknown: UnknownPolicy;
  directory?: SubscriberDirectory;
  countryCode?: string;
  onProgress?: (frames: number, events: number) => void;
  onTruncated?: (file: string, msg: string) => void;
  batchSize?: number;
}

export interface ReplaySummary extends DecodeSummary {
  events: number;
  deadLetters: number;
  notSubscriber: number;
  noIdentity: number;
  learned: number;
  seconds: number;
}

export function replayCaptures(s: Settings, files: string[], o: ReplayOptions): Promise<ReplaySummary> {
  return replaySources(s, files.map((f) => captureFileSource(f, o.onTruncated)), o);
}

export async function replaySources(s: Settings, sources: FrameSource[], o: ReplayOptions & { tap?: string }): Promise<ReplaySummary> {
  const tap = o.tap ?? 'replay';
  const started = Date.now();
  const publisher = new SignalingPublisher(s, `presence-replay-${process.pid}`);
  await publisher.connect();
  const resolver = new SubscriberResolver(o.directory, o.unknown);
  const pacer = new ReplayPacer(o.speed);
  const batchSize = o.batchSize ?? (o.speed === Infinity ? 2000 : 1);
  let batch: Array<{ s: DecodedSignal; file: string }> = [];
  let frames = 0;

  const flush = async () => {
    if (batch.length === 0) return;
    const current = batch;
    batch = [];
    await resolver.prepare(current.map((b) => b.s));
    for (const { s: sig, file } of current) {
      for (const e of signalingEvents(sig, { tap, capture: path.basename(file) }, resolver.keyOf)) await publisher.publish(e);
    }
  };

  let summary: DecodeSummary;
  try {
    summary = await decodeSources(
      sources,
      numberingPlan(s, o.countryCode),
      {
        signal: async (sig, file) => {
          batch.push({ s: sig, file });
          if (batch.length >= batchSize) await flush();
        },
        failure: async (f, file) => {
          await publisher.deadLetter(
            deadLetter('tap', f.layer, f.reason, f.message, f.raw, `${path.basename(file)}#${f.frame}`, { tap, capture: file }, Number(f.timeNs / 1_000_000n)),
          );
        },
        beforeFrame: async (f: CapturedFrame) => {
          frames++;
          if (o.speed !== Infinity && pacer.delayFor(f.timeNs) >= 1) {
            await flush();
            await pacer.wait(f.timeNs);
          }
          if (frames % 1000 === 0) o.onProgress?.(frames, publisher.stats.events);
        },
      },
    );
    await flush();
    await publisher.drain();
  } finally {
    await publisher.close().catch(() => {});
  }
  return {
    ...summary,
    events: publisher.stats.events,
    deadLetters: publisher.stats.deadLetters,
    notSubscriber: resolver.stats.notSubscriber,
    noIdentity: resolver.stats.noIdentity,
    learned: resolver.stats.learned,
    seconds: (Date.now() - started) / 1000,
  };
}
