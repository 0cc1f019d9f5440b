// When the event manager asks the network for a position (Le): a watcher whose
// rule allows location and whose SUBSCRIBE asks for it (presence-document/
// locationInterest.ts) subscribes or refreshes and no position is known, or the
// known one was observed longer ago than the setting — and again, while such a
// watcher stays subscribed, each time the position grows that old. Never more
// than one request per subscriber per interval, whatever the number of
// watchers (or a GMLC that never answers). The request is a record written in
// the event manager's transaction, never an HTTP call: the location agent
// answers it later with a SignalingEvent, applied like any network fact.
// Decided on the SUBSCRIBE's own time and id (or the timer's due time), so a
// re-processed batch asks the same question again, not a different one.
import type { LocationRequest } from '../../../schemas/generated/records.ts';
import type { SubscriberPresence } from './model.ts';

export interface LocationPolicy {
  /** A position observed longer ago than this is asked for again (eventManager.locationMaxAgeS). */
  readonly maxAgeMs: number;
  /** At most one request per subscriber this often (eventManager.locationMinIntervalS). */
  readonly minIntervalMs: number;
}

export interface LocationCause {
  /** The SUBSCRIBE's request id, or the periodic request's own. */
  readonly requestId: string;
  readonly at: number;
}

/** What of a watcher's dialog decides whether the position is kept fresh for it. */
interface LocationWatcher {
  readonly state: string;
  readonly decision: string;
  readonly wantsLocation: boolean;
}

/** Whether some watcher is subscribed that may see the position and asked for it. */
export function locationWatched(watchers: Iterable<LocationWatcher>): boolean {
  for (const d of watchers) if (d.state === 'active' && d.decision === 'allow-location' && d.wantsLocation) return true;
  return false;
}

const fresh = (s: SubscriberPresence, at: number, p: LocationPolicy) => s.geolocation !== null && at - s.geolocation.observedAt <= p.maxAgeMs;
const rateLimited = (askedAt: number | null, at: number, p: LocationPolicy) => askedAt !== null && at - askedAt < p.minIntervalMs;

/** The request a SUBSCRIBE (or a due refresh) causes, or null: the position is fresh, or one was asked for too recently. */
export function locationDemand(s: SubscriberPresence, askedAt: number | null, cause: LocationCause, p: LocationPolicy): LocationRequest | null {
  if (fresh(s, cause.at, p) || rateLimited(askedAt, cause.at, p)) return null;
  return {
    requestId: `location:${cause.requestId}`,
    subscriber: s.subscriber,
    requestedAt: cause.at,
    reason: s.geolocation ? 'stale' : 'watcher',
    maxLocationAgeS: Math.floor(p.maxAgeMs / 1000),
    horizontalAccuracyM: null,
  };
}

/**
 * While a watcher wants the position: when it is next to be asked for — once
 * the known one grows older than the setting, not before the rate limit
 * allows. Null: nobody wants it. A dialog timer (the dialogs' clock).
 */
export function nextLocationAskAt(s: SubscriberPresence, askedAt: number | null, watchers: Iterable<LocationWatcher>, p: LocationPolicy): number | null {
  if (!locationWatched(watchers)) return null;
  const stale = s.geolocation ? s.geolocation.observedAt + p.maxAgeMs + 1 : 0;
  return Math.max(stale, askedAt !== null ? askedAt + p.minIntervalMs : 0);
}
