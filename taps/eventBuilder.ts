// DecodedSignal → SignalingEvent records (the Avro contract of the
// signaling topic): one event per party the message concerns, keyed by that
// party's canonical subscriber key, with the protocol facts presence needs.
import type { IsupFacts, MapFacts, MessagingFacts, SignalingEvent, SipFacts } from '../schemas/generated/records.ts';
import { parseMessageSummary, SIMPLE_MESSAGE_SUMMARY } from '../presence-document/messageSummary.ts';
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

/** Methods by which a messaging system tells a mailbox's summary (RFC 3842 §3.1: NOTIFY; MESSAGE and PUBLISH as some platforms send it). */
const SUMMARY_METHODS = new Set(['NOTIFY', 'MESSAGE', 'PUBLISH']);

/**
 * What a message means to its recipient (the party it is addressed to: the
 * subject of a NOTIFY/PUBLISH, the called party of a MESSAGE or SMS), for its
 * Event: message-summary and Event: message watchers: a message-summary body
 * (RFC 3842), an SMS delivered to it (MAP mt-ForwardSM: from the TPDU's
 * originating number, else its service centre), an instant message (SIP
 * MESSAGE). A summary body that does not parse is no fact (the event still
 * carries the SIP message).
 */
export function messagingFacts(s: DecodedSignal, party: Party, eventId: string, time: number): MessagingFacts | null {
  if (party.role === 'calling') return null;
  if (s.protocol === 'map' && s.message === 'mt-ForwardSM' && s.kind === 'invoke') {
    // The TPDU's originating number when it is international, else the service centre it came through.
    const oa = s.ss7?.map?.params.smsOriginator;
    const sc = oa && oa.nai === 1 ? oa.digits : s.ss7?.map?.params.serviceCentre?.digits;
    return {
      summary: null,
      notice: {
        messageId: eventId,
        contentType: 'text/plain',
        origin: sc ? `tel:+${sc}` : 'tel:unknown',
        contact: null,
        context: 'text-message',
        receivedAt: time,
        subject: null,
      },
    };
  }
  const msg = s.sip?.message;
  if (!msg || msg.kind !== 'request' || !SUMMARY_METHODS.has(msg.method)) return null;
  const type = msg.contentType?.mediaType?.toLowerCase();
  if (msg.event?.type === 'message-summary' || type === SIMPLE_MESSAGE_SUMMARY) {
    if (msg.body.length === 0) return null; // a PUBLISH refresh, an empty NOTIFY: nothing new
    try {
      const summary = parseMessageSummary(Buffer.from(msg.body).toString('utf8'));
      return { summary: { ...summary, classes: summary.classes.map((c) => ({ ...c })) }, notice: null };
    } catch {
      return null;
    }
  }
  // An instant message to the subscriber (seed 003, all-IP): announced with its kind; one per Call-ID and CSeq.
  if (msg.method === 'MESSAGE' && party.role === 'called' && msg.from?.uri)
    return {
      summary: null,
      notice: {
        messageId: `sip:${msg.callId}:${msg.cseq.seq}`,
        contentType: type ?? 'text/plain',
        origin: msg.from.uri,
        contact: null,
        context: 'text-message',
        receivedAt: time,
        subject: msg.headers.get('subject') ?? null,
      },
    };
  return null;
}

/** Events for the parties `keyOf` maps to a subscriber key (null: not ours, not published). */
export function signalingEvents(s: DecodedSignal, source: EventSource, keyOf: (p: Party) => string | null): SignalingEvent[] {
  const out: SignalingEvent[] = [];
  const time = Number(s.timeNs / 1_000_000n);
  for (const party of s.parties) {
    const subscriber = keyOf(party);
    if (!subscriber) continue;
    const eventId = `${source.tap}:${source.capture ?? '-'}:${s.frame}:${s.index}:${party.role}`;
    out.push({
      eventId,
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
      messaging: messagingFacts(s, party, eventId, time),
    });
  }
  return out;
}
