// When the event manager asks the network for a position (Le): a watcher
// allowed location subscribes or refreshes and no position is known, or the
// known one was observed longer ago than the setting. The request is a record
// written in the event manager's transaction, never an HTTP call: the location
// agent answers it later with a SignalingEvent, applied like any network fact.
// Decided on the SUBSCRIBE's own time and id, so a re-processed batch asks
// the same question again, not a different one.
import type { LocationRequest } from '../../../schemas/generated/records.ts';
import type { SubscriberPresence } from './model.ts';

export interface LocationCause {
  /** The SUBSCRIBE's request id. */
  readonly requestId: string;
  readonly at: number;
}

export function locationDemand(s: SubscriberPresence, cause: LocationCause, maxAgeMs: number): LocationRequest | null {
  const g = s.geolocation;
  if (g && cause.at - g.observedAt <= maxAgeMs) return null;
  return {
    requestId: `location:${cause.requestId}`,
    subscriber: s.subscriber,
    requestedAt: cause.at,
    reason: g ? 'stale' : 'watcher',
    maxLocationAgeS: Math.floor(maxAgeMs / 1000),
    horizontalAccuracyM: null,
  };
}
