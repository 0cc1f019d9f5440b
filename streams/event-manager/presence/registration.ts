// SIP REGISTER → registered contacts. Only a 2xx counts, and its Contact list
// is authoritative: it lists every binding of the AoR with its expiry
// (RFC 3261 §10.3 step 8), so it replaces what we had; a binding with
// expires=0, or absent from the list, is gone.
import type { SignalingEvent } from '../../../schemas/generated/records.ts';
import type { DerivationConfig } from './config.ts';
import type { RegisteredContact, SubscriberPresence } from './model.ts';

/** The taps carry a Contact as 'uri' or 'uri;expires=N'. */
export function parseContact(c: string): { uri: string; expires: number | null } {
  const m = /;expires=(\d+)$/i.exec(c);
  return m ? { uri: c.slice(0, m.index), expires: Number(m[1]) } : { uri: c, expires: null };
}

export function applyRegister(s: SubscriberPresence, e: SignalingEvent, cfg: DerivationConfig): SubscriberPresence {
  const sip = e.sip;
  if (!sip || sip.method !== 'REGISTER' || e.kind !== 'response' || sip.status === null || sip.status < 200 || sip.status >= 300) return s;
  if (s.registration.at !== null && e.time < s.registration.at) return s;
  const byUri = new Map<string, RegisteredContact>();
  for (const raw of sip.contacts) {
    const { uri, expires } = parseContact(raw);
    const seconds = expires ?? sip.expires ?? cfg.defaultRegisterExpiresS;
    if (seconds <= 0) continue;
    const before = s.registration.contacts.find((c) => c.uri === uri);
    byUri.set(uri, { uri, registeredAt: before?.registeredAt ?? e.time, expiresAt: e.time + seconds * 1000 });
  }
  const contacts = [...byUri.values()].sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  return { ...s, registration: { at: e.time, contacts } };
}
