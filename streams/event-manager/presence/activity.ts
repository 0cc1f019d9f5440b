// Recent activity: the last time of each kind, never moved backwards by a late event.
import type { SignalingEvent } from '../../../schemas/generated/records.ts';
import type { ActivityKind, SubscriberPresence } from './model.ts';
import { sipRole } from './sipRole.ts';

export function noteActivity(s: SubscriberPresence, kind: ActivityKind, t: number): SubscriberPresence {
  const last = s.activity[kind];
  if (last !== undefined && last >= t) return s;
  return { ...s, activity: { ...s.activity, [kind]: t } };
}

/** SIP MESSAGE (RFC 3428): instant messaging sent or received, by the subscriber's side. */
export function applySipMessage(s: SubscriberPresence, e: SignalingEvent): SubscriberPresence {
  if (e.kind !== 'request' || e.sip?.method !== 'MESSAGE') return s;
  const role = sipRole(e);
  return role ? noteActivity(s, role === 'calling' ? 'message-sent' : 'message-received', e.time) : s;
}
