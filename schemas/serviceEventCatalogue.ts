// The event catalogue of issue 17: every service-event type, the typed payload
// field of ServiceEvent (schemas/avro/ServiceEvent.avsc) it carries, and the
// JSON shape services see (webhooks, pull, SSE, HTTP publish). The Avro schema
// is the contract; this file only names which field goes with which type and
// checks a published payload against that field's Avro type, so a bad publish
// is refused naming the field rather than failing at encode time.
import type avro from 'avsc';
import { avroType, loadSchemas } from './avroSchemas.ts';
import type { ServiceEvent } from './generated/records.ts';

type PayloadField = 'call' | 'presence' | 'availability' | 'registration' | 'sms' | 'usage' | 'messageWaiting' | 'notice' | 'message';

export interface ServiceEventType {
  readonly type: string;
  readonly payload: PayloadField;
  readonly description: string;
  /** Derived by the deriver from Kafka topics (and so also publishable by nobody else), published over HTTP, or both. */
  readonly origin: 'derived' | 'published' | 'both';
}

export const SERVICE_EVENT_TYPES: readonly ServiceEventType[] = [
  { type: 'call.offered', payload: 'call', origin: 'derived', description: 'an incoming call reached the subscriber (ISUP IAM, SIP INVITE)' },
  { type: 'call.answered', payload: 'call', origin: 'derived', description: 'the subscriber answered it (ISUP ANM/CON, SIP 200 to the INVITE)' },
  {
    type: 'call.missed',
    payload: 'call',
    origin: 'derived',
    description: 'it ended before an answer (ISUP REL before ANM; SIP CANCEL or a 4xx/5xx/6xx final answer but 401/407)',
  },
  { type: 'presence.changed', payload: 'presence', origin: 'derived', description: "the subscriber's current presence changed (current-presence)" },
  { type: 'availability.changed', payload: 'availability', origin: 'derived', description: 'its availability profiles changed (availability-profiles)' },
  {
    type: 'registration.changed',
    payload: 'registration',
    origin: 'derived',
    description: 'registered or not (SIP REGISTER 200; MAP updateLocation answered, purgeMS)',
  },
  {
    type: 'sms.received',
    payload: 'sms',
    origin: 'derived',
    description: 'a short message was delivered to it (MAP mt-ForwardSM; SIP MESSAGE of SMS over IP)',
  },
  { type: 'usage.gauge', payload: 'usage', origin: 'published', description: 'a usage gauge was updated (published by a billing/rating service)' },
  {
    type: 'message.waiting',
    payload: 'messageWaiting',
    origin: 'both',
    description:
      'messages wait for it: published here by a messaging platform, or derived from a mailbox summary (RFC 3842) the taps saw or a platform published to the availability service or by SIP PUBLISH (one event per message class)',
  },
  {
    type: 'message.received',
    payload: 'message',
    origin: 'derived',
    description:
      'a new message for it (an SMS the taps saw, a SIP MESSAGE, a voice mail a messaging platform announced): its kind, origin and where to fetch it',
  },
  { type: 'event-type.available', payload: 'notice', origin: 'derived', description: 'an event type can be sent again (its source came back)' },
  { type: 'event-type.unavailable', payload: 'notice', origin: 'derived', description: 'an event type is no longer sent (its source went silent)' },
];

const BY_TYPE = new Map(SERVICE_EVENT_TYPES.map((t) => [t.type, t]));
const PAYLOAD_FIELDS: readonly PayloadField[] = ['call', 'presence', 'availability', 'registration', 'sms', 'usage', 'messageWaiting', 'notice', 'message'];

export function eventType(type: string): ServiceEventType | undefined {
  return BY_TYPE.get(type);
}

/** A published or registered event that does not fit the catalogue; `field` names the JSON field at fault. */
export class ServiceEventInvalid extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

let payloadTypes: Map<PayloadField, avro.Type> | undefined;

/** The Avro type of each payload field (the non-null branch of its union). */
function payloadType(field: PayloadField): avro.Type {
  if (!payloadTypes) {
    const root = avroType(loadSchemas().get('ServiceEvent')!) as avro.types.RecordType;
    payloadTypes = new Map();
    for (const f of root.fields) {
      if (!PAYLOAD_FIELDS.includes(f.name as PayloadField)) continue;
      const branches = (f.type as avro.types.UnwrappedUnionType).types;
      payloadTypes.set(
        f.name as PayloadField,
        branches.find((b) => b.typeName !== 'null')!,
      );
    }
  }
  return payloadTypes.get(field)!;
}

/** Fills the Avro defaults of a payload record (absent optional fields) and checks it; throws naming the first bad field. */
export function checkPayload(type: ServiceEventType, raw: unknown): NonNullable<ServiceEvent[PayloadField]> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ServiceEventInvalid(`payload: must be an object (${type.payload} record)`, 'payload');
  const t = payloadType(type.payload) as avro.types.RecordType;
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!t.fields.some((f) => f.name === k))
      throw new ServiceEventInvalid(`payload.${k}: not a field of ${type.type} (fields: ${t.fields.map((f) => f.name).join(', ')})`, `payload.${k}`);
  const filled: Record<string, unknown> = {};
  for (const f of t.fields) {
    const v = o[f.name];
    if (v === undefined) {
      const d = f.defaultValue();
      if (d === undefined) throw new ServiceEventInvalid(`payload.${f.name}: required for ${type.type}`, `payload.${f.name}`);
      filled[f.name] = d;
    } else filled[f.name] = v;
  }
  let bad: string | undefined;
  t.isValid(filled, {
    errorHook: (path) => {
      bad ??= path.join('.');
    },
  });
  if (bad !== undefined) throw new ServiceEventInvalid(`payload.${bad}: does not match the ${type.type} schema`, `payload.${bad}`);
  return filled as unknown as NonNullable<ServiceEvent[PayloadField]>;
}

/** A ServiceEvent with its type's payload set and every other payload null. */
export function serviceEvent(
  base: Pick<ServiceEvent, 'eventId' | 'type' | 'subject' | 'time' | 'source'> & { origin?: string | null },
  payload: unknown,
): ServiceEvent {
  const t = eventType(base.type);
  if (!t) throw new ServiceEventInvalid(`type: ${base.type} is not in the event catalogue`, 'type');
  const e: ServiceEvent = {
    ...base,
    origin: base.origin ?? null,
    call: null,
    presence: null,
    availability: null,
    registration: null,
    sms: null,
    usage: null,
    messageWaiting: null,
    notice: null,
    message: null,
  };
  (e as unknown as Record<string, unknown>)[t.payload] = payload;
  return e;
}

/** What services receive: the envelope with the payload under `payload` (the typed field the type names). */
export interface ServiceEventJson {
  eventId: string;
  type: string;
  subject: string;
  time: string;
  source: string;
  payload: unknown;
}

export function serviceEventJson(e: ServiceEvent): ServiceEventJson {
  const t = eventType(e.type);
  const payload = t ? e[t.payload] : (PAYLOAD_FIELDS.map((f) => e[f]).find((p) => p !== null) ?? null);
  return { eventId: e.eventId, type: e.type, subject: e.subject, time: new Date(e.time).toISOString(), source: e.source, payload };
}
