// Presence derivation for one subscriber: folds one signaling event into the
// state, as a pure function the event manager calls inside its exactly-once
// loop. A repeat of the subscriber's last event changes nothing (the
// partition's DuplicateWindow drops other recent repeats before this);
// events older than what a facet reflects do not regress it (each module
// guards its own facet).
import type { SignalingEvent } from '../../../schemas/generated/records.ts';
import { applySipMessage } from './activity.ts';
import { applyIsup, applySipCall } from './calls.ts';
import { applyGeolocation } from './geolocation.ts';
import { DEFAULT_CONFIG, type DerivationConfig } from './config.ts';
import { emptyPresence, type SubscriberPresence } from './model.ts';
import { applyMap } from './network.ts';
import { applyPublish } from './publication.ts';
import { applyRegister } from './registration.ts';
import { sameFacts } from './sameFacts.ts';

interface Applied {
  readonly state: SubscriberPresence;
  /** The facts changed (and version was incremented). When false, state differs at most in bookkeeping and need not be stored. */
  readonly changed: boolean;
}

function facts(s: SubscriberPresence, e: SignalingEvent, cfg: DerivationConfig): SubscriberPresence {
  switch (e.protocol) {
    case 'map':
      return applyMap(s, e, cfg);
    case 'isup':
      return applyIsup(s, e, cfg);
    case 'sip':
      return applySipMessage(applyPublish(applyRegister(applySipCall(s, e, cfg), e, cfg), e, cfg), e);
    case 'mlp':
      return applyGeolocation(s, e);
    default:
      return s;
  }
}

export function apply(state: SubscriberPresence | undefined, event: SignalingEvent, cfg: DerivationConfig = DEFAULT_CONFIG): Applied {
  const before = state ?? emptyPresence(event.subscriber);
  if (before.lastEventId === event.eventId) return { state: before, changed: false };
  const booked: SubscriberPresence = {
    ...before,
    eventsSeen: before.eventsSeen + 1,
    lastEventId: event.eventId,
    lastEventTime: Math.max(before.lastEventTime ?? event.time, event.time),
  };
  const after = facts(booked, event, cfg);
  if (sameFacts(before, after)) return { state: after, changed: false };
  return { state: { ...after, version: before.version + 1, updatedAt: Math.max(before.updatedAt, event.time) }, changed: true };
}
