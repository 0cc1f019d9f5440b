// A position the GMLC reported, as the SignalingEvent the event manager
// applies (protocol 'mlp', message 'slia', kind 'result'): keyed by subscriber
// like the taps' events, its id stable per answer so a re-published answer
// (agent restart before commit) is a duplicate the event manager ignores.
import type { SignalingEvent } from '../../schemas/generated/records.ts';
import type { MlpPosition } from './mlpMessages.ts';

export interface LocationEventSource {
  /** Which agent asked: the event's source.tap. */
  readonly agent: string;
  /** When the answer arrived (the event's time). */
  readonly answeredAt: number;
}

export function locationEvent(subscriber: string, p: MlpPosition, src: LocationEventSource): SignalingEvent {
  return {
    eventId: `${src.agent}:mlp:${subscriber}:${p.time}:${p.latitude.toFixed(6)},${p.longitude.toFixed(6)}`,
    time: src.answeredAt,
    subscriber,
    identities: { imsi: null, msisdn: `+${p.msisdn}`, aor: null },
    protocol: 'mlp',
    message: 'slia',
    kind: 'result',
    source: { tap: src.agent, capture: null, frame: 0 },
    map: null,
    isup: null,
    location: { latitude: p.latitude, longitude: p.longitude, radiusMeters: p.radiusM, observedAt: p.time, method: p.method },
    sip: null,
    messaging: null,
  };
}
