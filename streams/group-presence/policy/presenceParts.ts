// The parts of a member's presence a policy can share or ask for, and how
// each maps onto the PIDF the event managers render (RFC 3863/4479/4480).
// Names are the group service's (GroupMember.sharedParts).
import type { PresenceDocument, PresencePerson, PresenceService } from '../../../presence-document/model.ts';
import { parsePidf } from '../../../presence-document/parse.ts';
import { renderPidf } from '../../../presence-document/render.ts';

const PRESENCE_PARTS = ['basic', 'network', 'call', 'location', 'activities', 'note'] as const;
export type PresencePart = (typeof PRESENCE_PARTS)[number];

const CALL_ACTIVITIES = new Set(['on-the-phone']);

function isPresencePart(s: string): s is PresencePart {
  return (PRESENCE_PARTS as readonly string[]).includes(s);
}

/** Parses a part list; unknown names are an error that names the known ones. */
export function parseParts(list: readonly string[], origin: string): PresencePart[] {
  const out: PresencePart[] = [];
  for (const raw of list) {
    const p = raw.trim().toLowerCase();
    if (!p) continue;
    if (!isPresencePart(p)) throw new Error(`${origin}: unknown presence part "${raw}" (known: ${PRESENCE_PARTS.join(', ')})`);
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

/** Parts both allow; null stands for "all parts". */
export function intersectParts(a: readonly PresencePart[] | null, b: readonly PresencePart[] | null): PresencePart[] | null {
  if (a === null) return b === null ? null : [...b];
  if (b === null) return [...a];
  return a.filter((p) => b.includes(p));
}

function filterService(t: PresenceService, has: (p: PresencePart) => boolean): PresenceService {
  const network = has('network');
  return {
    id: t.id,
    ...(has('basic') && t.basic ? { basic: t.basic } : {}),
    ...(network && t.contact ? { contact: t.contact } : {}),
    notes: network ? t.notes : [],
    ...(network && t.timestamp ? { timestamp: t.timestamp } : {}),
    deviceIds: network ? t.deviceIds : [],
    activities: [],
    ...(network && t.serviceClass ? { serviceClass: t.serviceClass } : {}),
  };
}

function filterPerson(p: PresencePerson, has: (p: PresencePart) => boolean): PresencePerson {
  return {
    id: p.id,
    activities: p.activities.filter((a) => (CALL_ACTIVITIES.has(a) ? has('call') : has('activities'))),
    mood: has('activities') ? p.mood : [],
    placeType: has('location') ? p.placeType : [],
    ...(has('activities') && p.userInput ? { userInput: p.userInput } : {}),
    notes: has('note') ? p.notes : [],
    ...(p.timestamp ? { timestamp: p.timestamp } : {}),
  };
}

/** The document with only the given parts (null: all, returned unchanged). */
function filterDocument(doc: PresenceDocument, parts: readonly PresencePart[] | null): PresenceDocument {
  if (parts === null) return doc;
  const has = (p: PresencePart) => parts.includes(p);
  return {
    entity: doc.entity,
    services: doc.services.map((t) => filterService(t, has)),
    persons: doc.persons.map((p) => filterPerson(p, has)),
    devices: has('location') ? doc.devices : [],
    notes: has('note') ? doc.notes : [],
  };
}

/** A PIDF body with only the given parts; all parts (or every known part) leave it byte-identical. */
export function filterPidf(pidf: string, parts: readonly PresencePart[] | null): string {
  if (parts === null || PRESENCE_PARTS.every((p) => parts.includes(p))) return pidf;
  return renderPidf(filterDocument(parsePidf(pidf), parts));
}
