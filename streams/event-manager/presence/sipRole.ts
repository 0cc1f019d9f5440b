// Which side of a SIP exchange (INVITE dialog, MESSAGE) the subscriber is on.
import type { SignalingEvent } from '../../../schemas/generated/records.ts';

const userOf = (uri: string | null) => (uri ? (/^(?:sips?|tel):([^@;>]+)/i.exec(uri)?.[1]?.toLowerCase() ?? null) : null);

/** The subscriber's side of a SIP dialog, from which of From/To carries its identity. */
export function sipRole(e: SignalingEvent): 'calling' | 'called' | null {
  const sip = e.sip;
  if (!sip) return null;
  const mine = [e.identities.aor ? userOf(e.identities.aor) : null, e.identities.msisdn?.toLowerCase() ?? null].filter((x): x is string => x !== null);
  const from = userOf(sip.from);
  const to = userOf(sip.to);
  if (from && mine.includes(from) && !(to && mine.includes(to))) return 'calling';
  if (to && mine.includes(to) && !(from && mine.includes(from))) return 'called';
  // The taps name the party's role at the end of the event id.
  const tail = e.eventId.slice(e.eventId.lastIndexOf(':') + 1);
  return tail === 'calling' || tail === 'called' ? tail : null;
}
