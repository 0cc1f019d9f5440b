// Decodes capture files without Kafka: what `presence decode` runs, and the
// first half of `presence replay`. Reads in batches, hands every frame to the
// SignalingDecoder, and keeps the counts a user wants in the summary.
import { readCaptureBatches, readCaptureStreamBatches } from '../protocols/decode/pcap/readCapture.ts';
import type { CapturedFrame } from '../protocols/decode/pcap/capturedFrame.ts';
import { SignalingDecoder, type DecodeFailure } from './signalingDecoder.ts';
import type { NumberingPlan } from '../subscriber/identity/msisdn.ts';
import { normalisedKey } from '../subscriber/identity/subscriberKey.ts';
import type { DecodedSignal, PartyIdentities } from './signal.ts';

export interface DecodeSummary {
  frames: number;
  signals: number;
  /** `${protocol} ${message}` → count */
  byMessage: Record<string, number>;
  /** `${layer}.${reason}` → count */
  failures: Record<string, number>;
  skipped: Record<string, number>;
}

export interface CaptureHandlers {
  signal(s: DecodedSignal, source: string): void | Promise<void>;
  failure(f: DecodeFailure, source: string): void | Promise<void>;
  /** Called before each frame is decoded (pacing, progress). */
  beforeFrame?(f: CapturedFrame): void | Promise<void>;
}

/** Canonical key of a party's identities without a directory: MSISDN, then IMSI, then AoR. */
export function partyKey(ids: PartyIdentities | undefined): string | null {
  return (ids && normalisedKey(ids)) ?? null;
}

/** Where frames come from: a capture file, the generator, a live interface. */
export interface FrameSource {
  /** Shown in summaries and dead-letter origins. */
  name: string;
  batches: AsyncIterable<CapturedFrame[]>;
}

/**
 * A capture file as a frame source (truncation reported through `onTruncated`).
 * '-' reads a pcap/pcapng stream from stdin: live capture, e.g.
 * `tcpdump -i eth1 -U -w - 'sctp or port 5060' | presence replay -`.
 */
export function captureFileSource(file: string, onTruncated?: (file: string, msg: string) => void): FrameSource {
  const opts = { onTruncated: (e: { message: string }) => onTruncated?.(file, e.message) };
  if (file === '-') return { name: 'stdin', batches: readCaptureStreamBatches(process.stdin, opts) };
  return { name: file, batches: readCaptureBatches(file, opts) };
}

export async function decodeCaptures(files: string[], plan: NumberingPlan, h: CaptureHandlers, onTruncated?: (file: string, msg: string) => void): Promise<DecodeSummary> {
  return decodeSources(files.map((f) => captureFileSource(f, onTruncated)), plan, h);
}

export async function decodeSources(sources: FrameSource[], plan: NumberingPlan, h: CaptureHandlers): Promise<DecodeSummary> {
  const summary: DecodeSummary = { frames: 0, signals: 0, byMessage: {}, failures: {}, skipped: {} };
  for (const { name: file, batches } of sources) {
    const pending: Array<{ kind: 's'; v: DecodedSignal } | { kind: 'f'; v: DecodeFailure }> = [];
    const decoder = new SignalingDecoder(
      {
        signal: (s) => pending.push({ kind: 's', v: s }),
        failure: (f) => pending.push({ kind: 'f', v: f }),
      },
      { plan },
    );
    const drain = async () => {
      for (const p of pending) {
        if (p.kind === 's') {
          summary.signals++;
          const k = `${p.v.protocol} ${p.v.message}`;
          summary.byMessage[k] = (summary.byMessage[k] ?? 0) + 1;
          await h.signal(p.v, file);
        } else await h.failure(p.v, file);
      }
      pending.length = 0;
    };
    for await (const batch of batches) {
      for (const f of batch) {
        summary.frames++;
        if (h.beforeFrame) await h.beforeFrame(f);
        decoder.decodeFrame(f);
        if (pending.length) await drain();
      }
    }
    decoder.finish();
    await drain();
    for (const [k, v] of Object.entries(decoder.failures)) summary.failures[k] = (summary.failures[k] ?? 0) + v;
    for (const [k, v] of Object.entries(decoder.skipped)) summary.skipped[k] = (summary.skipped[k] ?? 0) + v;
  }
  return summary;
}

/** The `presence decode --json` object of one signal. */
export function signalJson(s: DecodedSignal): Record<string, unknown> {
  const primary = s.parties[0];
  const out: Record<string, unknown> = {
    time: new Date(Number(s.timeNs / 1_000_000n)).toISOString(),
    frame: s.frame,
    protocol: s.protocol,
    message: s.message,
    kind: s.kind,
    subscriber: partyKey(primary?.ids),
    identities: { imsi: primary?.ids.imsi ?? null, msisdn: primary?.ids.msisdn ?? null, aor: primary?.ids.aor ?? null },
  };
  if (s.parties.length > 1) out.parties = s.parties.map((p) => ({ role: p.role, subscriber: partyKey(p.ids) }));
  const m = s.ss7;
  if (m) {
    out.opc = m.opc;
    out.dpc = m.dpc;
    if (m.tcap) out.tcap = { type: m.tcap.type, otid: m.tcap.otid, dtid: m.tcap.dtid, appContext: m.tcap.appContext };
    if (m.map?.error) out.error = m.map.error;
    if (m.map?.params.subscriberState) out.subscriberState = m.map.params.subscriberState;
    if (m.isup) {
      out.cic = m.isup.cic;
      if (m.isup.cause) out.cause = m.isup.cause.value;
    }
  }
  if (s.sip) out.callId = s.sip.message.callId;
  return out;
}

export function formatSummary(sum: DecodeSummary): string {
  const lines = [`${sum.frames} frames, ${sum.signals} signaling messages`];
  const block = (title: string, rec: Record<string, number>) => {
    const entries = Object.entries(rec).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    if (entries.length === 0) return;
    lines.push(`${title}:`);
    for (const [k, v] of entries) lines.push(`  ${String(v).padStart(8)}  ${k}`);
  };
  block('messages by protocol and type', sum.byMessage);
  block('undecodable (dead-lettered when replaying), by layer.reason', sum.failures);
  block('skipped (not signaling)', sum.skipped);
  return lines.join('\n');
}
