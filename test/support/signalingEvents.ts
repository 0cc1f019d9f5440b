// Hand-built SignalingEvents for the derivation tests, shaped as the taps'
// eventBuilder fills them (taps/eventBuilder.ts).
import type { IsupFacts, MapFacts, SignalingEvent, SipFacts } from '../../schemas/generated/records.ts';

let counter = 0;

function base(subscriber: string, protocol: string, message: string, kind: string, time: number, id?: string): SignalingEvent {
  return {
    eventId: id ?? `test:${++counter}`,
    time,
    subscriber,
    identities: { imsi: null, msisdn: null, aor: null },
    protocol,
    message,
    kind,
    source: { tap: 'test', capture: null, frame: 0 },
    map: null,
    isup: null,
    location: null,
    sip: null,
    messaging: null,
  };
}

const noMap: MapFacts = {
  invokeId: 1,
  error: null,
  vlrNumber: null,
  mscNumber: null,
  sgsnNumber: null,
  hlrNumber: null,
  subscriberState: null,
  cellGlobalId: null,
  ageOfLocation: null,
  opc: null,
  dpc: null,
};

export function mapEvent(
  subscriber: string,
  message: string,
  kind: string,
  time: number,
  facts: Partial<MapFacts> = {},
  extra: Partial<SignalingEvent> = {},
): SignalingEvent {
  return { ...base(subscriber, 'map', message, kind, time), map: { ...noMap, ...facts }, ...extra };
}

export function isupEvent(subscriber: string, message: string, time: number, facts: Partial<IsupFacts> & { role: 'calling' | 'called' }): SignalingEvent {
  return {
    ...base(subscriber, 'isup', message, 'message', time),
    isup: { cic: 1, opc: 100, dpc: 200, calling: null, called: null, cause: null, callingPresentation: null, ...facts },
  };
}

const noSip: Omit<SipFacts, 'callId' | 'method'> = {
  cseq: 1,
  status: null,
  from: null,
  to: null,
  contacts: [],
  expires: null,
  event: null,
  etag: null,
  ifMatch: null,
  contentType: null,
  body: null,
  privacy: null,
};

export function sipRequest(subscriber: string, method: string, time: number, facts: Partial<SipFacts> & { callId: string }): SignalingEvent {
  return { ...base(subscriber, 'sip', method, 'request', time), sip: { ...noSip, method, ...facts } };
}

export function sipResponse(subscriber: string, method: string, status: number, time: number, facts: Partial<SipFacts> & { callId: string }): SignalingEvent {
  return { ...base(subscriber, 'sip', String(status), 'response', time), sip: { ...noSip, method, status, ...facts } };
}

/** A PUBLISH body: one tuple with a note, and a person with an RPID activity when given. */
export const pidfBody = (note: string, activity?: string) => `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="sip:telephone2@172.16.98.101">
  <tuple id="telephone2"><status><basic>open</basic></status><note>${note}</note></tuple>
  ${activity ? `<dm:person id="p1"><rpid:activities><rpid:${activity}/></rpid:activities><dm:note>${note}</dm:note></dm:person>` : ''}
</presence>`;
