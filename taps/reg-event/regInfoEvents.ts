// A reg-event NOTIFY's reginfo document → registration SignalingEvents, one
// per registration it changed. Malformed documents are not applied: the
// caller gets a DecodeError to count and dead-letter with the raw body; a
// version gap asks the caller to re-SUBSCRIBE for full state.
import type { SignalingEvent } from '../../schemas/generated/records.ts';
import { parseRegInfo, REGINFO } from '../../presence-document/regInfo.ts';
import type { RegInfoState } from '../../presence-document/regInfoState.ts';
import type { NumberingPlan } from '../../subscriber/identity/msisdn.ts';
import type { Party } from '../signal.ts';
import { registeredParty, registrationEvent } from './registrationEvent.ts';

export interface RegNotify {
  readonly body: Buffer;
  readonly time: number;
  /** The subscription's dialog: its Call-ID names the events, the NOTIFY's CSeq orders them. */
  readonly callId: string;
  readonly cseq: number;
  readonly origin: string | null;
}

export type RegNotifyOutcome =
  | { readonly kind: 'events'; readonly events: SignalingEvent[]; readonly version: number }
  | { readonly kind: 'stale'; readonly version: number }
  | { readonly kind: 'resubscribe'; readonly expected: number; readonly got: number };

/** Applies one NOTIFY body to the dialog's state. Throws DecodeError on a malformed document. */
export function applyRegNotify(state: RegInfoState, n: RegNotify, plan: NumberingPlan, keyOf: (p: Party) => string | null): RegNotifyOutcome {
  const doc = parseRegInfo(n.body);
  const applied = state.apply(doc, n.time);
  if (applied.outcome === 'stale') return { kind: 'stale', version: doc.version };
  if (applied.outcome === 'gap') return { kind: 'resubscribe', expected: applied.expected, got: applied.got };
  const events: SignalingEvent[] = [];
  for (const r of applied.changed) {
    const party = registeredParty(r.aor, plan);
    const subscriber = party ? keyOf(party) : null;
    if (!party || !subscriber) continue;
    const event = registrationEvent(
      {
        aor: r.aor,
        time: n.time,
        // The NOTIFY's CSeq, not only the version: Kamailio numbers every document 0.
        eventId: `reg-event:${n.callId}:${n.cseq}:${doc.version}:${r.aor}`,
        tap: 'reg-event',
        origin: n.origin,
        callId: n.callId,
        cseq: n.cseq,
        contacts: r.contacts.map((c) => ({ uri: c.uri, expiresS: c.expiresAt === null ? null : Math.round((c.expiresAt - n.time) / 1000) })),
        event: 'reg',
        contentType: REGINFO,
        body: n.body,
      },
      party,
      subscriber,
    );
    events.push(event);
  }
  return { kind: 'events', events, version: doc.version };
}
