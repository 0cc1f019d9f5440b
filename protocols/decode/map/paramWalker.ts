// Walks a MAP parameter guided by a spec: a table from BER tag to what the
// element holds (a field handler, or a nested spec for a constructed type).
// Elements not in the spec are skipped, so only presence-relevant fields are
// decoded, and extension markers/new fields in later MAP versions are harmless.
import { DecodeError } from '../layer.ts';
import * as ber from '../ber/ber.ts';
import type { Tlv as TlvT } from '../ber/ber.ts';
import * as addressString from './addressString.ts';
import type { MapAddress } from './addressString.ts';
import * as location from './location.ts';
import type { CellId } from './location.ts';

// Hot-path imports bound to module locals once (tsx accesses imported bindings
// through getters).
const { decodeCellId } = location;
const { decodeAddress, decodeImsi } = addressString;
const { readInt, readTlv, Tlv } = ber;

export interface MapLocation {
  ageOfLocationInformation?: number;
  vlrNumber?: MapAddress;
  mscNumber?: MapAddress;
  /** cellGlobalIdOrServiceAreaIdFixedLength */
  cellGlobalId?: CellId;
  /** laiFixedLength */
  lai?: CellId;
}

export interface MapParams {
  imsi?: string;
  msisdn?: MapAddress;
  vlrNumber?: MapAddress;
  mscNumber?: MapAddress;
  sgsnNumber?: MapAddress;
  hlrNumber?: MapAddress;
  roamingNumber?: MapAddress;
  /** SRI-for-SM result: the MSC/SGSN serving the subscriber. */
  networkNodeNumber?: MapAddress;
  serviceCentre?: MapAddress;
  gsmScfAddress?: MapAddress;
  /** LMSI / TMSI as hex. */
  lmsi?: string;
  tmsi?: string;
  location?: MapLocation;
  /** assumedIdle | camelBusy | netDetNotReachable | notProvidedFromVLR */
  subscriberState?: string;
  /** With netDetNotReachable: msPurged | imsiDetached | restrictedArea | notRegistered */
  notReachableReason?: string;
  /** ATI/PSI requestedInfo flags present. */
  requestedInfo?: string[];
  /** absentSubscriber error: imsiDetach | restrictedArea | noPageResponse | purgedMS | mtRoamingRetry | busySubscriber */
  absentSubscriberReason?: string;
  /** absentSubscriberSM error: TS 23.040 §3.3.2 diagnostic value. */
  absentSubscriberDiagnosticSM?: number;
  /** (MT-)ForwardSM sm-RP-UI holding an SMS-DELIVER: its TP-OA, who sent the message (numeric addresses only). */
  smsOriginator?: MapAddress;
}

type FieldHandler = (buf: Buffer, t: TlvT, out: MapParams) => void;
export type Spec = { readonly [tag: number]: FieldHandler | Spec | readonly (FieldHandler | Spec)[] };

const LAYER = 'map';
const MAX_DEPTH = 8;

type AddressField =
  'msisdn' | 'vlrNumber' | 'mscNumber' | 'sgsnNumber' | 'hlrNumber' | 'roamingNumber' | 'networkNodeNumber' | 'serviceCentre' | 'gsmScfAddress';

export const imsi: FieldHandler = (buf, t, out) => {
  out.imsi = decodeImsi(buf, t.valueStart, t.valueEnd);
};

export function address(field: AddressField): FieldHandler {
  return (buf, t, out) => {
    out[field] = decodeAddress(buf, t.valueStart, t.valueEnd);
  };
}

/**
 * sm-RP-UI (TS 23.040 §9.2.2.1): an SMS-DELIVER (TP-MTI 00) starts with its
 * TP-OA — digit count, type of address (TON/NPI as an AddressString's first
 * octet), semi-octets. An alphanumeric originator (TON 101) or another TPDU
 * type names no number: left out. The text is not decoded (nobody needs it).
 */
export const smsOriginator: FieldHandler = (buf, t, out) => {
  const p = t.valueStart;
  if (t.valueEnd - p < 3 || (buf[p]! & 0x03) !== 0x00) return;
  const digits = buf[p + 1]!;
  const toa = buf[p + 2]!;
  const end = p + 3 + Math.ceil(digits / 2);
  if (digits === 0 || end > t.valueEnd || ((toa >> 4) & 0x07) === 0x05) return;
  out.smsOriginator = decodeAddress(buf, p + 2, end);
};

export function hex(field: 'lmsi' | 'tmsi'): FieldHandler {
  return (buf, t, out) => {
    out[field] = buf.toString('hex', t.valueStart, t.valueEnd);
  };
}

function loc(out: MapParams): MapLocation {
  return (out.location ??= {});
}

export const ageOfLocation: FieldHandler = (buf, t, out) => {
  loc(out).ageOfLocationInformation = readInt(LAYER, buf, t.valueStart, t.valueEnd);
};
export const locationVlrNumber: FieldHandler = (buf, t, out) => {
  const a = decodeAddress(buf, t.valueStart, t.valueEnd);
  loc(out).vlrNumber = a;
  out.vlrNumber ??= a; // presence consumers read the serving VLR in one place
};
export const locationMscNumber: FieldHandler = (buf, t, out) => {
  const a = decodeAddress(buf, t.valueStart, t.valueEnd);
  loc(out).mscNumber = a;
  out.mscNumber ??= a;
};
export const cellGlobalId: FieldHandler = (buf, t, out) => {
  loc(out).cellGlobalId = decodeCellId(buf, t.valueStart, t.valueEnd);
};
export const lai: FieldHandler = (buf, t, out) => {
  loc(out).lai = decodeCellId(buf, t.valueStart, t.valueEnd);
};

/** SubscriberState CHOICE (TS 29.002 §17.7.3). */
const SUBSCRIBER_STATES: Readonly<Record<number, string>> = {
  0x80: 'assumedIdle',
  0x81: 'camelBusy',
  0x0a: 'netDetNotReachable', // untagged NotReachableReason ENUMERATED
  0x82: 'notProvidedFromVLR',
};
const NOT_REACHABLE_REASONS: Readonly<Record<number, string>> = {
  0: 'msPurged',
  1: 'imsiDetached',
  2: 'restrictedArea',
  3: 'notRegistered',
};
export const subscriberState: FieldHandler = (buf, t, out) => {
  const c = readTlv(LAYER, buf, t.valueStart, t.valueEnd, new Tlv());
  const s = SUBSCRIBER_STATES[c.tag];
  if (!s) throw new DecodeError(LAYER, 'malformed', `subscriberState tag 0x${c.tag.toString(16)}`);
  out.subscriberState = s;
  if (c.tag === 0x0a) {
    const r = readInt(LAYER, buf, c.valueStart, c.valueEnd);
    out.notReachableReason = NOT_REACHABLE_REASONS[r] ?? `reason${r}`;
  }
};

/** RequestedInfo flags (TS 29.002 §17.7.3), in tag order. */
const REQUESTED_INFO: Readonly<Record<number, string>> = {
  0x80: 'locationInformation',
  0x81: 'subscriberState',
  0x83: 'currentLocation',
  0x84: 'requestedDomain',
  0x85: 'imei',
  0x86: 'ms-classmark',
  0x87: 'mnpRequestedInfo',
  0x88: 'locationInformationEPS-Supported',
  0x89: 't-adsData',
  0x8a: 'requestedNodes',
  0x8b: 'servingNodeIndication',
  0x8c: 'localTimeZoneRequest',
};
export const requestedInfo: FieldHandler = (buf, t, out) => {
  const list: string[] = [];
  const f = new Tlv();
  for (let p = t.valueStart; p < t.valueEnd; p = f.end) {
    readTlv(LAYER, buf, p, t.valueEnd, f);
    const name = REQUESTED_INFO[f.tag];
    if (name) list.push(name);
  }
  out.requestedInfo = list;
};

const ABSENT_SUBSCRIBER_REASONS: Readonly<Record<number, string>> = {
  0: 'imsiDetach',
  1: 'restrictedArea',
  2: 'noPageResponse',
  3: 'purgedMS',
  4: 'mtRoamingRetry',
  5: 'busySubscriber',
};
export const absentSubscriberReason: FieldHandler = (buf, t, out) => {
  const r = readInt(LAYER, buf, t.valueStart, t.valueEnd);
  out.absentSubscriberReason = ABSENT_SUBSCRIBER_REASONS[r] ?? `reason${r}`;
};
export const absentSubscriberDiagnosticSM: FieldHandler = (buf, t, out) => {
  out.absentSubscriberDiagnosticSM = readInt(LAYER, buf, t.valueStart, t.valueEnd);
};

/** Applies `spec` to the elements in buf[start, end). */
export function walk(buf: Buffer, start: number, end: number, spec: Spec, out: MapParams, depth = 0): void {
  if (depth > MAX_DEPTH) throw new DecodeError(LAYER, 'malformed', 'parameter nesting too deep');
  const t = new Tlv();
  let occurrences: Map<number, number> | undefined;
  for (let p = start; p < end; p = t.end) {
    readTlv(LAYER, buf, p, end, t);
    let entry = spec[t.tag];
    if (entry === undefined) continue;
    if (Array.isArray(entry)) {
      // Repeated universal tags (e.g. IMSI then VLR number, both OCTET STRING) are told apart by position.
      occurrences ??= new Map();
      const n = occurrences.get(t.tag) ?? 0;
      occurrences.set(t.tag, n + 1);
      entry = entry[n];
      if (entry === undefined) continue;
    }
    if (typeof entry === 'function') entry(buf, t, out);
    else if (t.constructed) walk(buf, t.valueStart, t.valueEnd, entry as Spec, out, depth + 1);
    else throw new DecodeError(LAYER, 'malformed', `expected constructed element for tag 0x${t.tag.toString(16)}`);
  }
}
