// What a tap makes of one decoded signaling message: a protocol-neutral
// DecodedSignal naming the message, its kind and the parties it concerns,
// with the protocol's own decoded view kept for the event's facts.
import type { IsupNumber } from '../protocols/decode/isup/number.ts';
import type { MapAddress } from '../protocols/decode/map/map.ts';
import type { SipMessage } from '../protocols/decode/sip/message.ts';
import type { CorrelatedIsupMessage } from './correlation/isupCalls.ts';
import type { TransactionMatch } from './correlation/sipTransactions.ts';
import type { CorrelatedSs7Message } from './correlation/tcapTransactions.ts';
import { normalizeImsi } from '../subscriber/identity/imsi.ts';
import { normalizeMsisdn, type NumberingPlan } from '../subscriber/identity/msisdn.ts';
import { uriIdentity } from '../subscriber/identity/aor.ts';

export type SignalProtocol = 'sip' | 'map' | 'isup' | 'tcap';
export type SignalKind = 'request' | 'response' | 'invoke' | 'result' | 'error' | 'reject' | 'message';

/** One identity set for one party of a message. */
export interface PartyIdentities {
  imsi?: string;
  /** '+E164' */
  msisdn?: string;
  /** 'sip:user@host' */
  aor?: string;
}

/** subject: the one the message is about; calling/called: the two sides of a call or SMS. */
export type PartyRole = 'subject' | 'calling' | 'called';

export interface Party {
  role: PartyRole;
  ids: PartyIdentities;
}

export interface DecodedSignal {
  frame: number;
  timeNs: bigint;
  protocol: SignalProtocol;
  /** SIP method or status code; MAP operation (TS 29.002 lowerCamelCase); ISUP acronym; TCAP message type. */
  message: string;
  kind: SignalKind;
  /** First party is the primary one (the `subscriber` of `presence decode --json`). */
  parties: Party[];
  /** Index of this message among those decoded from the same frame (TCAP components, SIP messages in a segment). */
  index: number;
  ss7?: CorrelatedSs7Message & CorrelatedIsupMessage;
  sip?: { message: SipMessage; match?: TransactionMatch };
}

/** '+E164' from a MAP/ISUP number whose nature of address says international or national. */
export function numberToMsisdn(n: { digits: string; nai: number } | undefined, plan: NumberingPlan, internationalNai: number): string | undefined {
  if (!n) return undefined;
  const digits = n.digits.replace(/[^0-9]/g, '');
  if (!digits) return undefined;
  // Without a configured home country code a national number cannot be made
  // E.164; its digits are then taken as they are (bare digits read as international).
  const international = n.nai === internationalNai || !plan.countryCode;
  const e164 = international ? normalizeMsisdn(`+${digits}`, plan) : normalizeMsisdn(digits, { ...plan, bareDigits: 'national' });
  return e164 ? `+${e164}` : undefined;
}

// TS 29.002 AddressString nature 1 = international; Q.763 NAI 4 = international number.
const mapMsisdn = (a: MapAddress | undefined, plan: NumberingPlan) => numberToMsisdn(a, plan, 1);
const isupMsisdn = (n: IsupNumber | undefined, plan: NumberingPlan) => numberToMsisdn(n, plan, 4);

function compact(ids: PartyIdentities): PartyIdentities | undefined {
  const out: PartyIdentities = {};
  if (ids.imsi) out.imsi = ids.imsi;
  if (ids.msisdn) out.msisdn = ids.msisdn;
  if (ids.aor) out.aor = ids.aor;
  return out.imsi || out.msisdn || out.aor ? out : undefined;
}

export function ss7Signal(m: CorrelatedSs7Message & CorrelatedIsupMessage, index: number, plan: NumberingPlan): DecodedSignal {
  const base = { frame: m.frame, timeNs: m.timeNs, index, ss7: m };
  if (m.map) {
    const c = m.map;
    const p = c.params;
    const operation = c.operation ?? m.dialogue?.invokeOperation ?? (c.opCode !== undefined ? `operation${c.opCode}` : 'unknown');
    const ids = compact({
      imsi: normalizeImsi(p.imsi ?? m.dialogue?.imsi ?? '') ?? undefined,
      msisdn: mapMsisdn(p.msisdn ?? m.dialogue?.msisdn, plan),
    });
    return { ...base, protocol: 'map', message: operation, kind: c.kind, parties: ids ? [{ role: 'subject', ids }] : [] };
  }
  if (m.isup) {
    const i = m.isup;
    const calling = compact({ msisdn: isupMsisdn(i.callingNumber ?? m.call?.calling, plan) });
    // A roaming number is no one's MSISDN: the subscriber the HLR allocated it for is the called party.
    const called = compact({
      msisdn: m.call?.calledSubscriber ? mapMsisdn(m.call.calledSubscriber, plan) : isupMsisdn(i.calledNumber ?? m.call?.called, plan),
    });
    const parties: Party[] = [];
    if (calling) parties.push({ role: 'calling', ids: calling });
    if (called) parties.push({ role: 'called', ids: called });
    return { ...base, protocol: 'isup', message: i.name, kind: 'message', parties };
  }
  if (m.component) {
    // A non-MAP TCAP component (CAP, INAP...): counted under TCAP.
    return { ...base, protocol: 'tcap', message: m.tcap?.type ?? 'component', kind: m.component.kind as SignalKind, parties: [] };
  }
  return { ...base, protocol: 'tcap', message: m.tcap?.type ?? m.sccp?.type ?? 'unknown', kind: 'message', parties: [] };
}

function uriIds(uri: string | undefined, plan: NumberingPlan): PartyIdentities | undefined {
  if (!uri) return undefined;
  const id = uriIdentity(uri, plan);
  if (!id) return undefined;
  if (id.kind === 'msisdn') return { msisdn: `+${id.e164}` };
  // A URI without a user part names a host (OPTIONS pings, proxies), not a subscriber.
  return id.aor.includes('@') ? { aor: id.aor } : undefined;
}

// Requests whose presentity is the target (To / Request-URI): its registration,
// its published state, the resource watched.
const TARGET_IS_SUBJECT = new Set(['REGISTER', 'PUBLISH', 'SUBSCRIBE', 'NOTIFY', 'OPTIONS']);

export function sipSignal(
  message: SipMessage,
  match: TransactionMatch | undefined,
  frame: number,
  timeNs: bigint,
  index: number,
  plan: NumberingPlan,
): DecodedSignal {
  const method = message.kind === 'request' ? message.method : message.cseq.method;
  const from = uriIds(message.from?.uri, plan);
  const to = uriIds(message.to?.uri, plan) ?? (message.kind === 'request' ? uriIds(message.requestUri, plan) : undefined);
  const parties: Party[] = [];
  if (TARGET_IS_SUBJECT.has(method)) {
    if (to) parties.push({ role: 'subject', ids: to });
  } else {
    // Calls, messages, BYE/CANCEL/ACK: the two sides.
    if (from) parties.push({ role: 'calling', ids: from });
    if (to) parties.push({ role: 'called', ids: to });
  }
  return {
    frame,
    timeNs,
    index,
    protocol: 'sip',
    message: message.kind === 'request' ? message.method : String(message.status),
    kind: message.kind,
    parties,
    sip: { message, match },
  };
}
