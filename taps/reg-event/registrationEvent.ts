// Registration state learnt from the IMS core (a reg-event NOTIFY, a
// third-party REGISTER) as the SignalingEvent a tap would have published for
// the REGISTER's 200: method REGISTER, status 200 and the complete list of the
// AoR's active bindings with the seconds each has left. The event manager's
// registration derivation (streams/event-manager/presence/registration.ts)
// reads that list as authoritative, so presence follows without a new event
// type; the reginfo body rides along for anyone who wants the contact events.
import type { SignalingEvent } from '../../schemas/generated/records.ts';
import type { NumberingPlan } from '../../subscriber/identity/msisdn.ts';
import { uriIdentity } from '../../subscriber/identity/aor.ts';
import type { Party } from '../signal.ts';

export interface RegistrationFacts {
  /** The registered public identity (RFC 3680 aor; the To of a third-party REGISTER). */
  readonly aor: string;
  readonly time: number;
  /** Stable per input, so a redelivered NOTIFY or REGISTER publishes the same id. */
  readonly eventId: string;
  /** 'reg-event' (the SUBSCRIBE agent) or 'isc' (third-party REGISTER). */
  readonly tap: string;
  /** Who told us: the registrar or S-CSCF address. */
  readonly origin: string | null;
  readonly callId: string;
  readonly cseq: number;
  /** Every active binding; empty: not registered. */
  readonly contacts: readonly { uri: string; expiresS: number | null }[];
  readonly event: string | null;
  readonly contentType: string | null;
  readonly body: Buffer | null;
}

/** The party a registered identity is, as the taps name it (tel / user=phone → MSISDN). */
export function registeredParty(aor: string, plan: NumberingPlan): Party | undefined {
  const id = uriIdentity(aor, plan);
  if (!id) return undefined;
  if (id.kind === 'msisdn') return { role: 'subject', ids: { msisdn: `+${id.e164}` } };
  return id.aor.includes('@') ? { role: 'subject', ids: { aor: id.aor } } : undefined;
}

export function registrationEvent(f: RegistrationFacts, party: Party, subscriber: string): SignalingEvent {
  return {
    eventId: f.eventId,
    time: f.time,
    subscriber,
    identities: { imsi: party.ids.imsi ?? null, msisdn: party.ids.msisdn ?? null, aor: party.ids.aor ?? null },
    protocol: 'sip',
    message: '200',
    kind: 'response',
    source: { tap: f.tap, capture: f.origin, frame: 0 },
    map: null,
    isup: null,
    location: null,
    messaging: null,
    sip: {
      callId: f.callId,
      cseq: f.cseq,
      method: 'REGISTER',
      status: 200,
      from: f.aor,
      to: f.aor,
      contacts: f.contacts.map((c) => (c.expiresS !== null ? `${c.uri};expires=${Math.max(0, c.expiresS)}` : c.uri)),
      // No binding: an explicit 0 so a reader without the list sees the de-registration.
      expires: f.contacts.length === 0 ? 0 : null,
      event: f.event,
      etag: null,
      ifMatch: null,
      contentType: f.contentType,
      body: f.body,
      privacy: null,
    },
  };
}
