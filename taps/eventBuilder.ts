// DecodedSignal → SignalingEvent records (the Avro contract of the
// signaling topic): one event per party the message concerns, keyed by that
// party's canonical subscriber key, with the protocol facts presence needs.
import type { IsupFacts, MapFacts, SignalingEvent, SipFacts } from '../schemas/generated/records.ts';
import type { MapAddress } from '../protocols/decode/map/map.ts';
import type { Party, DecodedSignal } from './signal.ts';

export interface EventSource {
  tap: string;
  capture: string | null;
}

const addr = (a: MapAddress | undefined) => a?.digits ?? null;

function mapFacts(s: DecodedSignal): MapFacts | null {
  const m = s.ss7;
  if (!m?.map) return null;
  const p = m.map.params;
  const cgi = p.location?.cellGlobalId ?? p.location?.lai;
  return {
    invokeId: m.map.invokeId ?? null,
    error: m.map.error ?? null,
    vlrNumber: addr(p.vlrNumber ?? p.location?.vlrNumber),
    mscNumber: addr(p.mscNumber ?? p.location?.mscNumber ?? p.networkNodeNumber),
    sgsnNumber: addr(p.sgsnNumber),
    hlrNumber: addr(p.hlrNumber),
    subscriberState: p.subscriberState ? (p.notReachableReason ? `${p.subscriberState}:${p.notReachableReason}` : p.subscriberState) : null,
    cellGlobalId: cgi ? `${cgi.mcc}-${cgi.mnc}-${cgi.lac}${cgi.ci !== undefined ? `-${cgi.ci}` : ''}` : null,
    ageOfLocation: p.location?.ageOfLocationInformation ?? null,
    opc: m.opc,
    dpc: m.dpc,
  };
}

/** Q.763 §3.10 address presentation restricted indicator. */
const PRESENTATION: Readonly<Record<number, string>> = { 0: 'allowed', 1: 'restricted', 2: 'unavailable' };

function isupFacts(s: DecodedSignal, party: Party): IsupFacts | null {
  const m = s.ss7;
  if (!m?.isup) return null;
  const calling = s.parties.find((p) => p.role === 'calling')?.ids.msisdn ?? null;
  const called = s.parties.find((p) => p.role === 'called')?.ids.msisdn ?? null;
  // The IAM carries it; later messages of the call get it from the correlated call.
  const presentation = (m.isup.callingNumber ?? m.call?.calling)?.presentation;
  return {
    cic: m.isup.cic,
    opc: m.opc,
    dpc: m.dpc,
    calling,
    called,
    cause: m.isup.cause?.value ?? null,
    role: party.role === 'subject' ? null : party.role,
    // Kept so watchers are never shown a caller who asked not to be (dialog-info's remote identity).
    callingPresentation: presentation === undefined ? null : (PRESENTATION[presentation] ?? null),
  };
}

function sipFacts(s: DecodedSignal): SipFacts | null {
  const msg = s.sip?.message;
  if (!msg) return null;
  return {
    callId: msg.callId,
    cseq: msg.cseq.seq,
    method: msg.kind === 'request' ? msg.method : msg.cseq.method,
    status: msg.status ?? null,
    from: msg.from?.uri ?? null,
    to: msg.to?.uri ?? null,
    contacts: msg.contacts.map((c) => (c.expires !== undefined ? `${c.uri};expires=${c.expires}` : c.uri)),
    expires: msg.expires ?? null,
    event: msg.event?.type ?? null,
    etag: msg.sipETag ?? null,
    ifMatch: msg.sipIfMatch ?? null,
    contentType: msg.contentType?.mediaType ?? null,
    body: msg.body.length > 0 ? Buffer.from(msg.body) : null,
    privacy: msg.headers.get('privacy') ?? null,
  };
}

/** Events for the parties `keyOf` maps to a subscriber key (null: not ours, not published). */
export function signalingEvents(s: DecodedSignal, source: EventSource, keyOf: (p: Party) => string | null): SignalingEvent[] {
  const out: SignalingEvent[] = [];
  const time = Number(s.timeNs / 1_000_000n);
  for (const party of s.parties) {
    const subscriber = keyOf(party);
    if (!subscriber) continue;
    out.push({
      eventId: `${source.tap}:${source.capture ?? '-'}:${s.frame}:${s.index}:${party.role}`,
      time,
      subscriber,
      identities: { imsi: party.ids.imsi ?? null, msisdn: party.ids.msisdn ?? null, aor: party.ids.aor ?? null },
      protocol: s.protocol,
      message: s.message,
      kind: s.kind,
      source: { tap: source.tap, capture: source.capture, frame: s.frame },
      map: mapFacts(s),
      isup: isupFacts(s, party),
      location: null,
      sip: sipFacts(s),
    });
  }
  return out;
}
