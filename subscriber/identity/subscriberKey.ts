// One canonical key per subscriber across SS7 and SIP. Precedence:
//   1. MSISDN   'msisdn:+<E164>'  — the one identity both worlds carry (MAP
//      ISDN-AddressStrings, ISUP numbers, tel: and user=phone SIP URIs), so
//      it joins SS7 and SIP views of a subscriber;
//   2. IMSI     'imsi:<digits>'   — SS7/IMS only; used when no number is known;
//   3. SIP AoR  'aor:sip:user@host' — pure SIP subscribers without a number.
// Within a kind the first usable identity in the given order wins.
// This file is the one place keys are written: the taps, the directory, the
// front end and the locate query all key through it, so one subscriber never
// lands on two keys (and two partitions).
import { uriIdentity } from './aor.ts';
import { normalizeImsi } from './imsi.ts';
import { normalizeMsisdn, type NumberingPlan } from './msisdn.ts';
import type { SipUri } from '../../protocols/decode/sip/uri.ts';

type SubscriberKey = `msisdn:+${string}` | `imsi:${string}` | `aor:${string}`;

type IdentityKind = 'msisdn' | 'imsi' | 'aor';

/** One normalised identity: msisdn '+E164', imsi digits, aor 'sip:user@host' (or a tel: AoR). */
export interface IdentityRef {
  kind: IdentityKind;
  value: string;
}

/** Normalised identities as the taps decode them and the directory stores them. */
interface NormalisedIdentities {
  msisdn?: string | null;
  imsi?: string | null;
  aor?: string | null;
}

interface SubscriberIdentities {
  /** MSISDNs in any dialled form. */
  msisdns?: readonly string[];
  imsis?: readonly string[];
  /** SIP / SIPS / tel URIs (From/To/P-Asserted-Identity/Request-URI...), most authoritative first. */
  uris?: readonly string[];
}

/** The key of one normalised identity ('kind:value'); also the directory's lookup key for it. */
export function identityKey(id: IdentityRef): SubscriberKey {
  return `${id.kind}:${id.value}` as SubscriberKey;
}

/** Whether a string already is a subscriber key (as a user may type one). */
export function isSubscriberKey(s: string): s is SubscriberKey {
  return /^(msisdn:\+|imsi:|aor:)/.test(s);
}

/** A SIP/tel URI as a normalised identity: a number (tel:, user=phone) or an AoR. */
export function uriIdentityRef(uri: string | SipUri, plan: NumberingPlan): IdentityRef | undefined {
  const id = uriIdentity(uri, plan);
  if (!id) return undefined;
  return id.kind === 'msisdn' ? { kind: 'msisdn', value: `+${id.e164}` } : { kind: 'aor', value: id.aor };
}

/**
 * The subscriber a URI names, as a normalised identity: none for a URI
 * without a user part (a host: OPTIONS pings, proxies) or a local tel number
 * without a global context — those name no subscriber.
 */
export function uriSubscriber(uri: string | SipUri, plan: NumberingPlan): IdentityRef | undefined {
  const id = uriIdentityRef(uri, plan);
  return id && (id.kind === 'msisdn' || id.value.includes('@')) ? id : undefined;
}

/** The key of already-normalised identities: MSISDN, then IMSI, then AoR (empty values are absent). */
export function normalisedKey(ids: NormalisedIdentities): SubscriberKey | undefined {
  if (ids.msisdn) return identityKey({ kind: 'msisdn', value: ids.msisdn });
  if (ids.imsi) return identityKey({ kind: 'imsi', value: ids.imsi });
  if (ids.aor) return identityKey({ kind: 'aor', value: ids.aor });
  return undefined;
}

/** The key of raw identities (any dialled form, any URI), normalised with the numbering plan. */
export function subscriberKey(ids: SubscriberIdentities, plan: NumberingPlan): SubscriberKey | undefined {
  for (const m of ids.msisdns ?? []) {
    const e164 = normalizeMsisdn(m, plan);
    if (e164) return identityKey({ kind: 'msisdn', value: `+${e164}` });
  }
  const fromUris = (ids.uris ?? []).map((u) => uriIdentityRef(u, plan));
  for (const id of fromUris) if (id?.kind === 'msisdn') return identityKey(id);
  for (const i of ids.imsis ?? []) {
    const imsi = normalizeImsi(i);
    if (imsi) return identityKey({ kind: 'imsi', value: imsi });
  }
  for (const id of fromUris) if (id?.kind === 'aor') return identityKey(id);
  return undefined;
}
