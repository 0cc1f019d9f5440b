// Entry points: stream a scenario's frames to a pcap file (with a summary of
// what was written), or hand them to other code one by one (e.g. a Kafka
// producer). Also re-exports the identity derivation so callers can name the
// population without generating anything.
import type { Protocol } from './encoder.ts';
import { subscriberIdentity } from './identity.ts';
import type { Mix } from './mix.ts';
import { LINKTYPE } from '../../protocols/decode/link/linkTypes.ts';
import { PcapWriter } from '../../protocols/decode/pcap/writePcap.ts';
import { Scenario } from './scenario.ts';

export { subscriberIdentity };
export type { SubscriberIdentity } from './identity.ts';
export type { Mix } from './mix.ts';
export { DEFAULT_MIX } from './mix.ts';
// Ground truth for end-to-end checks: Scenario.attached(i, t), mscAt(i, t), hasIms(i) …
export { Scenario } from './scenario.ts';

export interface GenerateOptions {
  subscribers: number;
  durationSeconds: number;
  seed: number;
  mix?: Partial<Mix>;
  countryCode?: string;
  mcc?: string;
  mnc?: string;
  /** Capture start, Unix seconds (default 2026-01-01T00:00:00Z). */
  startTime?: number;
}

export interface PcapOptions extends GenerateOptions {
  out: string;
  /** Nanosecond-resolution pcap (default microseconds). */
  nanos?: boolean;
}

export interface PacketMeta {
  protocol: Protocol;
  /** MAP "<operation>.invoke", "<operation>.result" or "<operation>.error.<error>"; ISUP message name; SIP method or "<status> <method>". */
  message: string;
  /** Subscriber index (see subscriberIdentity), -1 for numbers that do not exist. */
  subscriber: number;
}

export interface GeneratedPacket {
  /** Unix time in nanoseconds. */
  timeNs: bigint;
  /**
   * A complete Ethernet frame; never overwritten, so it may be kept. Frames
   * are views into shared 1 MB slabs: copy the few you keep long-term, so
   * they do not pin whole slabs.
   */
  frame: Buffer;
  meta: PacketMeta;
}

export interface GenerateSummary {
  packets: number;
  bytes: number;
  /** Simulated seconds covered. */
  durationSeconds: number;
  byProtocol: Record<Protocol, number>;
  /** Count per protocol and message, e.g. byMessage.map['updateLocation.invoke']. */
  byMessage: Record<Protocol, Record<string, number>>;
  /** Distinct subscribers that appear in the traffic. */
  subscribersSeen: number;
  /** Wall-clock seconds spent generating. */
  elapsedSeconds: number;
}

export interface Progress {
  packets: number;
  /** Simulated seconds done of durationSeconds. */
  simulatedSeconds: number;
  durationSeconds: number;
}

function scenarioOf(opts: GenerateOptions, transientFrames: boolean): Scenario {
  return new Scenario({ ...opts, transientFrames });
}

/** Frames in time order, each a fresh object the caller may keep. */
export function* generatePackets(opts: GenerateOptions): Generator<GeneratedPacket> {
  const sc = scenarioOf(opts, false);
  const start = BigInt(sc.startTime) * 1_000_000_000n;
  for (const p of sc.packets()) {
    yield {
      timeNs: start + BigInt(Math.round(p.t * 1e9)),
      frame: p.frame,
      meta: { protocol: p.protocol, message: p.message, subscriber: p.subscriber },
    };
  }
}

/** Writes the scenario to a pcap file (Ethernet link type) and returns what it wrote. */
export async function generateToPcap(opts: PcapOptions, onProgress?: (p: Progress) => void): Promise<GenerateSummary> {
  const began = performance.now();
  // The writer copies each frame at once, so the encoder may reuse its space.
  const sc = scenarioOf(opts, true);
  const writer = new PcapWriter(opts.out, { linkType: LINKTYPE.ethernet, nanosecond: opts.nanos ?? false, snapLength: 65535 });
  const byProtocol: Record<Protocol, number> = { map: 0, isup: 0, sip: 0 };
  const byMessage: Record<Protocol, Record<string, number>> = { map: {}, isup: {}, sip: {} };
  // One bit per subscriber index; 10M subscribers → 1.25 MB.
  const seen = new Uint8Array((sc.n + 7) >> 3);
  let seenCount = 0;
  let lastReport = 0;
  try {
    for (const p of sc.packets()) {
      // Same rounding as generatePackets, so both agree to the nanosecond.
      const tn = Math.round(p.t * 1e9);
      const whole = Math.floor(tn / 1e9);
      writer.write(sc.startTime + whole, tn - whole * 1e9, p.frame);
      byProtocol[p.protocol]++;
      const table = byMessage[p.protocol];
      table[p.message] = (table[p.message] ?? 0) + 1;
      const s = p.subscriber;
      if (s >= 0 && !(seen[s >> 3]! & (1 << (s & 7)))) {
        seen[s >> 3]! |= 1 << (s & 7);
        seenCount++;
      }
      if (onProgress && writer.packets - lastReport >= 100_000) {
        lastReport = writer.packets;
        onProgress({ packets: writer.packets, simulatedSeconds: p.t, durationSeconds: sc.durationSeconds });
        // Let timers and I/O callbacks run during long generations.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  } finally {
    writer.close();
  }
  onProgress?.({ packets: writer.packets, simulatedSeconds: sc.durationSeconds, durationSeconds: sc.durationSeconds });
  return {
    packets: writer.packets,
    bytes: writer.bytes,
    durationSeconds: sc.durationSeconds,
    byProtocol,
    byMessage,
    subscribersSeen: seenCount,
    elapsedSeconds: (performance.now() - began) / 1000,
  };
}
