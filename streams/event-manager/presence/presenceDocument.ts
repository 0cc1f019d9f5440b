// The subscriber's presence as an RFC 4479 document (the PIDF parser's data
// model), merged from network facts and what the subscriber PUBLISHed.
//
// Merge rule:
//  - Reachability is the network's: the 'network' service is open when the
//    subscriber is attached (CS or PS), each registered SIP/IMS contact is an
//    open service, and a published tuple keeps its own <basic> unless the
//    network knows the subscriber is unreachable (detached or purged, no live
//    contact), when it is shown closed: a client cannot claim reachability
//    the network denies.
//  - Activities and notes are the person's: the newest publication that has a
//    person with activities (notes) provides them; otherwise the network's
//    (on-the-phone while a call is answered).
//  - Place: the cell the subscriber was last seen in, as a note on the handset device.
//  - Position (the network's answer over Le) only with `withLocation`, for watchers
//    whose rule allows location: a 'location' tuple of the handset whose status holds
//    RFC 4119 geopriv, timestamped with when the subscriber was there.
// Every timestamp is a fact's own time (state entered, leg answered, contact
// registered, location observed, publication's text), never "now", so the same
// facts give the same document.
import { hash } from 'node:crypto';
import type { PresenceDevice, PresenceDocument, PresenceNote, PresencePerson, PresenceService } from '../../../presence-document/model.ts';
import { renderPidf } from '../../../presence-document/render.ts';
import { callStateOf, servingNodeOf, type Publication, type SubscriberPresence } from './model.ts';

export interface DocumentOptions {
  /** Presentity URI; by default tel:+E164 for msisdn keys, the AoR for aor keys, pres:<imsi>@imsi.invalid otherwise. */
  readonly entity?: string;
  /** Include the position the network reported (geopriv): only for a watcher whose rule allows location. */
  readonly withLocation?: boolean;
}

/** Id of the tuple carrying the network-reported position. */
export const LOCATION_TUPLE = 'location';

/** How long a watcher may keep a position (RFC 4119 retention-expiry), from when it was observed. */
const LOCATION_RETENTION_MS = 24 * 60 * 60 * 1000;

const iso = (ms: number) => new Date(ms).toISOString();

/** Id of the tuple carrying the network (CS/PS) service. */
export const NETWORK_TUPLE = 'network';

function entityOf(subscriber: string): string {
  const [kind, ...rest] = subscriber.split(':');
  const id = rest.join(':');
  if (kind === 'msisdn') return `tel:${id}`;
  if (kind === 'aor') return id;
  return `pres:${id}@${kind}.invalid`;
}

/** Opaque, stable device URN: the handset's real identities (IMSI, IMEI) are not for watchers. */
function deviceUrn(subscriber: string): string {
  const h = hash('sha1', `presence-device:${subscriber}`, 'hex');
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const shortHash = (s: string) => hash('sha1', s, 'hex').slice(0, 8);

function networkNote(s: SubscriberPresence): string {
  const n = s.network;
  const node = servingNodeOf(s);
  const via = node ? ` (${n.vlr?.number || n.mscNumber ? 'MSC/VLR' : 'SGSN'} ${node})` : '';
  if (n.state === 'attached') return `attached${via}`;
  if (n.state === 'detached' || n.state === 'purged') return n.reason ? `${n.state} (${n.reason})` : n.state;
  return n.state;
}

/** Newest first, so the latest publication wins; ties broken by tag for determinism. */
function newestFirst(pubs: readonly Publication[]): Publication[] {
  return [...pubs].sort((a, b) => b.publishedAt - a.publishedAt || (a.etag < b.etag ? -1 : a.etag > b.etag ? 1 : 0));
}

/** XML ids must be NCNames and unique within the document. */
function uniqueId(wanted: string, used: Set<string>): string {
  let base = wanted.replace(/[^A-Za-z0-9_.-]/g, '_');
  if (!/^[A-Za-z_]/.test(base)) base = `_${base}`;
  let id = base;
  for (let i = 2; used.has(id); i++) id = `${base}-${i}`;
  used.add(id);
  return id;
}

export function presenceDocument(s: SubscriberPresence, o: DocumentOptions = {}): PresenceDocument {
  const used = new Set<string>();
  const n = s.network;
  const pubs = newestFirst(s.publications);
  const geo = o.withLocation ? s.geolocation : null;
  const handsetKnown = n.state === 'attached' || s.location !== null || geo !== null;
  const handsetUrn = deviceUrn(s.subscriber);
  const networkDenies = (n.state === 'detached' || n.state === 'purged') && s.registration.contacts.length === 0;

  const services: PresenceService[] = [];
  const msisdn = s.subscriber.startsWith('msisdn:') ? s.subscriber.slice('msisdn:'.length) : null;
  // A pure SIP subscriber (AoR key) gets a network service only once the network said something.
  const showNetwork = !s.subscriber.startsWith('aor:') || n.at !== null;
  const net: PresenceService = {
    id: showNetwork ? uniqueId(NETWORK_TUPLE, used) : NETWORK_TUPLE,
    basic: n.state === 'attached' ? 'open' : 'closed',
    notes: [{ text: networkNote(s) }],
    deviceIds: handsetKnown ? [handsetUrn] : [],
    activities: [],
    ...(msisdn ? { contact: { uri: `tel:${msisdn}` } } : {}),
    ...(n.since !== null ? { timestamp: iso(n.since) } : {}),
  };
  if (showNetwork) services.push(net);
  if (geo) {
    services.push({
      id: uniqueId(LOCATION_TUPLE, used),
      notes: [],
      deviceIds: [handsetUrn],
      activities: [],
      timestamp: iso(geo.observedAt),
      geopriv: {
        latitude: geo.latitude,
        longitude: geo.longitude,
        ...(geo.radiusMeters !== null ? { radiusMeters: geo.radiusMeters } : {}),
        ...(geo.method ? { method: geo.method } : {}),
        retransmissionAllowed: false,
        retentionExpiry: iso(geo.observedAt + LOCATION_RETENTION_MS),
      },
    });
  }
  for (const c of s.registration.contacts) {
    services.push({
      id: uniqueId(`reg-${shortHash(c.uri)}`, used),
      basic: 'open',
      contact: { uri: c.uri },
      notes: [],
      deviceIds: [],
      activities: [],
      timestamp: iso(c.registeredAt),
    });
  }
  for (const p of pubs) {
    for (const t of p.document.services) {
      const basic = networkDenies ? 'closed' : t.basic;
      services.push({ ...t, id: uniqueId(t.id || `pub-${p.etag}`, used), ...(basic ? { basic } : {}), activities: [] });
    }
  }

  // Person: activities and notes from the newest publication that has them, else network facts.
  const pubPersons = pubs.flatMap((p) => p.document.persons.map((person) => ({ person, publishedAt: p.publishedAt })));
  const withActivities = pubPersons.find((p) => p.person.activities.length > 0);
  const withNotes = pubPersons.find((p) => p.person.notes.length > 0);
  const answered = s.calls.filter((c) => c.phase === 'answered');
  const inCall = callStateOf(s) === 'in-call';
  const networkActivityAt = answered.length > 0 ? Math.max(...answered.map((c) => c.at)) : n.at;
  const activities = withActivities ? [...withActivities.person.activities] : inCall ? ['on-the-phone'] : [];
  const notes: PresenceNote[] = withNotes ? [...withNotes.person.notes] : [];
  // A published person without its own timestamp is as old as its publication.
  const publishedTimestamp = withActivities ? (withActivities.person.timestamp ?? iso(withActivities.publishedAt)) : undefined;
  const networkTimestamp = inCall && networkActivityAt !== null ? iso(networkActivityAt) : undefined;
  const timestamp = withActivities ? publishedTimestamp : networkTimestamp;
  const source = (withActivities ?? withNotes)?.person;
  const person: PresencePerson = {
    id: uniqueId('person', used),
    activities,
    mood: source ? [...source.mood] : [],
    placeType: source ? [...source.placeType] : [],
    notes,
    ...(source?.userInput ? { userInput: source.userInput } : {}),
    ...(timestamp ? { timestamp } : {}),
  };

  const devices: PresenceDevice[] = [];
  if (handsetKnown) {
    const loc = s.location;
    devices.push({
      id: uniqueId('handset', used),
      deviceId: handsetUrn,
      notes: loc ? [{ text: `cell ${loc.cellGlobalId}` }] : [],
      ...(loc ? { timestamp: iso(loc.observedAt) } : {}),
    });
  }
  for (const p of pubs)
    for (const d of p.document.devices) if (d.deviceId && d.deviceId !== handsetUrn) devices.push({ ...d, id: uniqueId(d.id || 'device', used) });

  return { entity: o.entity ?? entityOf(s.subscriber), services, persons: [person], devices, notes: [] };
}

/** The PIDF watchers of this subscriber receive. */
export function renderPresence(s: SubscriberPresence, o: DocumentOptions = {}): string {
  return renderPidf(presenceDocument(s, o));
}

/** What watchers allowed location were told about the position: changes when (and only when) the geopriv they see would. */
export function geolocationFingerprint(s: SubscriberPresence): string | null {
  const g = s.geolocation;
  return g ? `${g.latitude},${g.longitude},${g.radiusMeters ?? ''},${g.observedAt},${g.method ?? ''}` : null;
}
