// Positions the network reported when asked (Le: the location agent's MLP
// answers, protocol 'mlp'): the newest observation wins, so an answer that
// arrives late with an older position (a slow GMLC, CURRENT_OR_LAST giving the
// last known) does not replace a fresher one.
import type { SignalingEvent } from '../../../schemas/generated/records.ts';
import type { SubscriberPresence } from './model.ts';

export function applyGeolocation(s: SubscriberPresence, e: SignalingEvent): SubscriberPresence {
  const l = e.location;
  if (!l || e.kind !== 'result') return s;
  if (s.geolocation && l.observedAt <= s.geolocation.observedAt) return s;
  return {
    ...s,
    geolocation: { latitude: l.latitude, longitude: l.longitude, radiusMeters: l.radiusMeters, observedAt: l.observedAt, method: l.method, reportedAt: e.time },
  };
}
