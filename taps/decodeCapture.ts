// Decodes capture files without Kafka: what `presence decode` runs. The
// same DecodeStage as the taps pipeline (one decode path), with handlers in
// place of resolving and publishing.
import type { NumberingPlan } from '../subscriber/identity/msisdn.ts';
import { normalisedKey } from '../subscriber/identity/subscriberKey.ts';
import type { DecodedSignal, PartyIdentities } from './signal.ts';
import type { DecodeFailure } from './signalingDecoder.ts';
import { captureInput } from './inputs/captureInput.ts';
import { DecodeStage, emptyDecodeSummary, type Decoded, type DecodeSummary } from './pipeline/decodeStage.ts';
import type { TapInput } from './pipeline/tapInput.ts';

export type { DecodeSummary };

export interface CaptureHandlers {
  signal(s: DecodedSignal, source: string): void | Promise<void>;
  failure(f: DecodeFailure, source: string): void | Promise<void>;
}

/** Canonical key of a party's identities without a directory: MSISDN, then IMSI, then AoR. */
export function partyKey(ids: PartyIdentities | undefined): string | null {
  return (ids && normalisedKey(ids)) ?? null;
}

export async function decodeCaptures(
  files: string[],
  plan: NumberingPlan,
  h: CaptureHandlers,
  onTruncated?: (file: string, msg: string) => void,
  onBroken?: (file: string, msg: string) => void,
): Promise<DecodeSummary> {
  return decodeSources(
    files.map((f) => captureInput(f, onTruncated, onBroken)),
    plan,
    h,
  );
}

export async function decodeSources(inputs: TapInput[], plan: NumberingPlan, h: CaptureHandlers): Promise<DecodeSummary> {
  const summary = emptyDecodeSummary();
  for (const input of inputs) {
    const stage = new DecodeStage(input, 'decode', plan, summary);
    const hand = async (out: Decoded[]) => {
      for (const d of out.splice(0)) {
        if (d.kind === 'signal') await h.signal(d.signal, input.name);
        else if (d.kind === 'failure') await h.failure(d.failure, input.name);
        else
          await h.failure(
            { frame: 0, timeNs: BigInt(d.item.time) * 1_000_000n, layer: d.item.layer, reason: d.item.reason, message: d.item.message, raw: d.item.raw },
            input.name,
          );
      }
    };
    for await (const batch of input.batches) {
      for (const item of batch) {
        const out = stage.push(item);
        if (out.length) await hand(out);
      }
    }
    await hand(stage.finish());
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
