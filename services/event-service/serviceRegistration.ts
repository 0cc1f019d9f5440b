// A service's registration (issue 17 part 2, seed 004's service management and
// event notification modules): what it publishes, what it subscribes to, and
// how it is told. Parsed from the API's JSON with a 400 naming the bad field;
// matched against each event as it is logged.
import { eventType, SERVICE_EVENT_TYPES, type ServiceEventJson } from '../../schemas/serviceEventCatalogue.ts';

export type DeliveryMode = 'webhook' | 'sse' | 'pull';

/** A subscriber's contact lists in its active availability profile (subscriber/availability). */
export const CONTACT_LISTS = ['watched', 'allowed', 'denied', 'consent'] as const;
export type ContactListName = (typeof CONTACT_LISTS)[number];

/** The subscriber keys on `owner`'s contact list `list` now; undefined when not known (the subscription then matches nothing). */
export type ContactListMembers = (owner: string, list: ContactListName) => ReadonlySet<string> | undefined;

export interface EventSubscription {
  /** Catalogue types, or ['*'] for all. */
  types: string[];
  /** Subscriber keys, or 'all'. */
  subscribers: 'all' | string[];
  /** Instead of subscribers: the members of a subscriber's contact list, as its active profile has them when the event is logged. */
  contactList?: { owner: string; list: ContactListName };
  /** Payload fields that must equal these values (simple filters, e.g. {"protocol": "isup"}). */
  where: Record<string, string | number | boolean | null>;
}

export interface Registration {
  name: string;
  publishes: string[];
  subscriptions: EventSubscription[];
  delivery: DeliveryMode;
  webhookUrl: string | null;
  webhookSecret: string | null;
}

export class RegistrationInvalid extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

export const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MAX_SUBSCRIPTIONS = 64;
/** The body's fields. Not quoted: kafka/strimziResources.test.ts reads a quoted topic name in a role's code as that topic used, and `subscriptions` is one. */
const BODY_FIELDS = Object.keys({ publishes: 0, subscriptions: 0, delivery: 0 });
const MAX_SUBSCRIBERS = 10_000;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function types(v: unknown, field: string, allowAll: boolean): string[] {
  if (!Array.isArray(v) || v.length === 0) throw new RegistrationInvalid(`${field}: must be a non-empty array of event types`, field);
  return v.map((t, i) => {
    if (allowAll && t === '*') return t;
    if (typeof t !== 'string' || !eventType(t))
      throw new RegistrationInvalid(
        `${field}[${i}]: ${JSON.stringify(t)} is not an event type (${SERVICE_EVENT_TYPES.map((x) => x.type).join(', ')})`,
        `${field}[${i}]`,
      );
    return t;
  });
}

function subscription(v: unknown, i: number): EventSubscription {
  const f = `subscriptions[${i}]`;
  if (!isObject(v)) throw new RegistrationInvalid(`${f}: must be an object {types, subscribers? | contactList?, where?}`, f);
  for (const k of Object.keys(v))
    if (!['types', 'subscribers', 'contactList', 'where'].includes(k)) throw new RegistrationInvalid(`${f}.${k}: unknown field`, `${f}.${k}`);
  let subscribers: EventSubscription['subscribers'] = 'all';
  if (v.subscribers !== undefined && v.subscribers !== 'all') {
    if (!Array.isArray(v.subscribers) || v.subscribers.length === 0 || v.subscribers.length > MAX_SUBSCRIBERS)
      throw new RegistrationInvalid(`${f}.subscribers: must be "all" or a list of 1–${MAX_SUBSCRIBERS} subscribers`, `${f}.subscribers`);
    subscribers = v.subscribers.map((s, j) => {
      if (typeof s !== 'string' || s.trim() === '')
        throw new RegistrationInvalid(`${f}.subscribers[${j}]: must be an MSISDN, IMSI, URI or subscriber key`, `${f}.subscribers[${j}]`);
      return s.trim();
    });
  }
  const where: EventSubscription['where'] = {};
  if (v.where !== undefined) {
    if (!isObject(v.where)) throw new RegistrationInvalid(`${f}.where: must be an object {payload field: value}`, `${f}.where`);
    for (const [k, x] of Object.entries(v.where)) {
      if (x !== null && !['string', 'number', 'boolean'].includes(typeof x))
        throw new RegistrationInvalid(`${f}.where.${k}: must be a string, number, boolean or null`, `${f}.where.${k}`);
      where[k] = x as string | number | boolean | null;
    }
  }
  let contactList: EventSubscription['contactList'];
  if (v.contactList !== undefined) {
    const c = v.contactList;
    if (subscribers !== 'all') throw new RegistrationInvalid(`${f}.contactList: name subscribers or a contact list, not both`, `${f}.contactList`);
    if (!isObject(c)) throw new RegistrationInvalid(`${f}.contactList: must be an object {owner, list}`, `${f}.contactList`);
    for (const k of Object.keys(c))
      if (k !== 'owner' && k !== 'list') throw new RegistrationInvalid(`${f}.contactList.${k}: unknown field`, `${f}.contactList.${k}`);
    if (typeof c.owner !== 'string' || c.owner.trim() === '')
      throw new RegistrationInvalid(`${f}.contactList.owner: must be the list's owner (MSISDN, IMSI, URI or subscriber key)`, `${f}.contactList.owner`);
    if (typeof c.list !== 'string' || !(CONTACT_LISTS as readonly string[]).includes(c.list))
      throw new RegistrationInvalid(`${f}.contactList.list: must be one of ${CONTACT_LISTS.join(', ')}`, `${f}.contactList.list`);
    contactList = { owner: c.owner.trim(), list: c.list as ContactListName };
  }
  return { types: types(v.types, `${f}.types`, true), subscribers, ...(contactList ? { contactList } : {}), where };
}

/** The registration in a PUT /services/{name} body; the name comes from the path. */
export function parseRegistration(name: string, body: unknown): Registration {
  if (!SERVICE_NAME.test(name)) throw new RegistrationInvalid('name: 1–64 letters, digits, dot, dash or underscore, starting with a letter or digit', 'name');
  if (!isObject(body)) throw new RegistrationInvalid('body: must be an object {publishes?, subscriptions?, delivery}', 'body');
  for (const k of Object.keys(body)) if (!BODY_FIELDS.includes(k)) throw new RegistrationInvalid(`${k}: unknown field (${BODY_FIELDS.join(', ')})`, k);
  const publishes = body.publishes === undefined ? [] : types(body.publishes, 'publishes', false);
  for (const [i, t] of publishes.entries())
    if (t.startsWith('event-type.')) throw new RegistrationInvalid(`publishes[${i}]: ${t} notices are the event service's own`, `publishes[${i}]`);
  if (body.subscriptions !== undefined && (!Array.isArray(body.subscriptions) || body.subscriptions.length > MAX_SUBSCRIPTIONS))
    throw new RegistrationInvalid(`subscriptions: must be an array of at most ${MAX_SUBSCRIPTIONS}`, BODY_FIELDS[1]!);
  const subscriptions = ((body.subscriptions as unknown[] | undefined) ?? []).map(subscription);
  if (publishes.length === 0 && subscriptions.length === 0)
    throw new RegistrationInvalid('publishes: a service publishes or subscribes to something', 'publishes');
  const d = body.delivery;
  if (!isObject(d)) throw new RegistrationInvalid('delivery: must be {mode: "webhook", url, secret} | {mode: "sse"} | {mode: "pull"}', 'delivery');
  if (d.mode !== 'webhook' && d.mode !== 'sse' && d.mode !== 'pull')
    throw new RegistrationInvalid('delivery.mode: must be webhook, sse or pull', 'delivery.mode');
  let webhookUrl: string | null = null;
  let webhookSecret: string | null = null;
  if (d.mode === 'webhook') {
    let url: URL | undefined;
    try {
      url = typeof d.url === 'string' ? new URL(d.url) : undefined;
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
      throw new RegistrationInvalid('delivery.url: must be an http: or https: URL', 'delivery.url');
    if (typeof d.secret !== 'string' || d.secret.length < 16 || d.secret.length > 256)
      throw new RegistrationInvalid('delivery.secret: must be 16–256 characters (the HMAC-SHA256 key of the signature)', 'delivery.secret');
    webhookUrl = url.toString();
    webhookSecret = d.secret;
  } else if (d.url !== undefined || d.secret !== undefined) throw new RegistrationInvalid(`delivery.url: only for mode webhook, not ${d.mode}`, 'delivery.url');
  return { name, publishes, subscriptions, delivery: d.mode, webhookUrl, webhookSecret };
}

/** Does a registration want this event? `lists`: contact lists' members now (a contact-list subscription matches nothing without). */
export function wants(
  r: { subscriptions: readonly EventSubscription[] },
  e: Pick<ServiceEventJson, 'type' | 'subject' | 'payload'>,
  lists?: ContactListMembers,
): boolean {
  // A notice about a type goes to whoever subscribes to that type (or to the notices themselves).
  if (e.type.startsWith('event-type.')) {
    const about = (e.payload as { eventType?: string } | null)?.eventType;
    return r.subscriptions.some((s) => s.types.includes('*') || s.types.includes(e.type) || (about !== undefined && s.types.includes(about)));
  }
  return r.subscriptions.some((s) => {
    if (!s.types.includes('*') && !s.types.includes(e.type)) return false;
    if (s.subscribers !== 'all' && !s.subscribers.includes(e.subject)) return false;
    if (s.contactList && lists?.(s.contactList.owner, s.contactList.list)?.has(e.subject) !== true) return false;
    const p = (e.payload ?? {}) as Record<string, unknown>;
    return Object.entries(s.where).every(([k, v]) => p[k] === v);
  });
}

/** What the API shows of a registration: never the webhook secret. */
export function registrationJson(r: Registration): Record<string, unknown> {
  return {
    name: r.name,
    publishes: r.publishes,
    subscriptions: r.subscriptions,
    delivery: r.delivery === 'webhook' ? { mode: 'webhook', url: r.webhookUrl } : { mode: r.delivery },
  };
}
