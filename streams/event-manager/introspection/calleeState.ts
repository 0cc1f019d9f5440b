// A subscriber's live presence as the call-handling decision sees it
// (subscriber/call-handling/callDecision.ts): known at all, reachable, in a
// call, where its SIP registrations point, and its own number.
import type { CalleeState } from '../../../subscriber/call-handling/callDecision.ts';
import { callStateOf, isKnown, isReachable, type SubscriberPresence } from '../presence/model.ts';

export function calleeState(key: string, p: SubscriberPresence): CalleeState {
  const call = callStateOf(p);
  // A party to a live call is known and reachable even when no attach or registration was seen:
  // a fixed line on ISUP shows itself only by its calls.
  const inLiveCall = call !== 'idle';
  return {
    known: isKnown(p) || inLiveCall,
    reachable: isReachable(p) || call === 'in-call',
    call,
    contacts: p.registration.contacts.map((c) => c.uri),
    ...(key.startsWith('msisdn:+') ? { number: key.slice('msisdn:'.length) } : {}),
  };
}
