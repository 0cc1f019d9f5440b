// One canonical key per subscriber across SS7 and SIP. Precedence:
//   1. MSISDN   'msisdn:+<E164>'  — the one identity both worlds carry (MAP
//      ISDN-AddressStrings, ISUP numbers, tel: and user=phone SIP URIs), so
//      it joins SS7 and SIP views of a subscriber;
//   2. IMSI     'imsi:<digits>'   — SS7/IMS only; used when no number is known;
//   3. SIP AoR  'aor:sip:user@host' — pure SIP subscribers without a number.
// Within a kind the first usable identity in the given order wins.
import { uriIdentity } from './aor.ts';
import { normalizeImsi } from './imsi.ts';
import { normalizeMsisdn, type NumberingPlan } from './msisdn.ts';

export type SubscriberKey = `msisdn:+${string}` | `imsi:${string}` | `aor:${string}`;

export interface SubscriberIdentities {
  /** MSISDNs in any dialled form. */
  msisdns?: readonly string[];
  imsis?: readonly string[];
  /** SIP / SIPS / tel URIs (From/To/P-Asserted-Identity/Request-URI...), most authoritative first. */
  uris?: readonly string[];
}

export function subscriberKey(ids: SubscriberIdentities, plan: NumberingPlan): SubscriberKey | undefined {
  for (const m of ids.msisdns ?? []) {
    const e164 = normalizeMsisdn(m, plan);
    if (e164) return `msisdn:+${e164}`;
  }
  const fromUris = (ids.uris ?? []).map((u) => uriIdentity(u, plan));
  for (const id of fromUris) if (id?.kind === 'msisdn') return `msisdn:+${id.e164}`;
  for (const i of ids.imsis ?? []) {
    const imsi = normalizeImsi(i);
    if (imsi) return `imsi:${imsi}`;
  }
  for (const id of fromUris) if (id?.kind === 'aor') return `aor:${id.aor}`;
  return undefined;
}
