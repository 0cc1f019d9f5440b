// A subscriber's live presence as the call-handling decision sees it
// (subscriber/call-handling/callDecision.ts): known at all, reachable, in a
// call, where its SIP registrations point, and its own number.
import type { CalleeState } from '../../../subscriber/call-handling/callDecision.ts';
import { callStateOf, isReachable, type SubscriberPresence } from '../presence/model.ts';

export function calleeState(key: string, p: SubscriberPresence): CalleeState {
  return {
    known: p.network.state !== 'unknown' || p.registration.contacts.length > 0 || p.publications.length > 0,
    reachable: isReachable(p),
    call: callStateOf(p),
    contacts: p.registration.contacts.map((c) => c.uri),
    ...(key.startsWith('msisdn:+') ? { number: key.slice('msisdn:'.length) } : {}),
  };
}
