// PIDF (RFC 3863) parser producing the RFC 4479 model with RPID (RFC 4480).
// Unknown extension elements are ignored (RFC 3863 §4.3: "must ignore").
import { DecodeError } from '../protocols/decode/layer.ts';
import type { BasicStatus, PresenceContact, PresenceDevice, PresenceDocument, PresenceNote, PresencePerson, PresenceService } from './model.ts';
import { attr, child, childNames, children, parseXml, text } from './xml.ts';

const LAYER = 'pidf';

function notes(node: unknown): PresenceNote[] {
  return children(node, 'note').map((n) => {
    const lang = attr(n, 'lang');
    return lang ? { text: text(n) ?? '', lang } : { text: text(n) ?? '' };
  });
}

/** Enumerated RPID values: child element names; <other> contributes its text. */
function enumerated(node: unknown, name: string): string[] {
  const out: string[] = [];
  for (const el of children(node, name)) {
    for (const k of childNames(el)) {
      if (k === 'note') continue;
      if (k === 'other') for (const o of children(el, 'other')) out.push(`other:${text(o) ?? ''}`);
      else out.push(k);
    }
  }
  return out;
}

function optional<T extends object, K extends string, V>(obj: T, key: K, v: V | undefined): T & { [P in K]?: V } {
  if (v !== undefined && v !== '') (obj as Record<string, unknown>)[key] = v;
  return obj as T & { [P in K]?: V };
}

function service(t: unknown): PresenceService {
  const basicText = text(child(child(t, 'status'), 'basic'))?.toLowerCase();
  const basic: BasicStatus | undefined = basicText === 'open' || basicText === 'closed' ? basicText : undefined;
  const c = child(t, 'contact');
  let contact: PresenceContact | undefined;
  if (c !== undefined && text(c)) {
    const p = attr(c, 'priority');
    const pr = p === undefined ? NaN : Number(p);
    contact = Number.isFinite(pr) ? { uri: text(c)!, priority: pr } : { uri: text(c)! };
  }
  const s = {
    id: attr(t, 'id') ?? '',
    notes: notes(t),
    deviceIds: children(t, 'deviceID')
      .map((d) => text(d) ?? '')
      .filter(Boolean),
    activities: enumerated(child(t, 'status'), 'activities').concat(enumerated(t, 'activities')),
  };
  optional(s, 'basic', basic);
  optional(s, 'contact', contact);
  optional(s, 'timestamp', text(child(t, 'timestamp')));
  optional(s, 'serviceClass', childNames(child(t, 'service-class'))[0]);
  optional(s, 'userInput', text(child(t, 'user-input')) ?? text(child(child(t, 'status'), 'user-input')));
  return s as PresenceService;
}

function person(p: unknown): PresencePerson {
  const out = {
    id: attr(p, 'id') ?? '',
    activities: enumerated(p, 'activities'),
    mood: enumerated(p, 'mood'),
    placeType: enumerated(p, 'place-type'),
    notes: notes(p),
  };
  optional(out, 'userInput', text(child(p, 'user-input')));
  optional(out, 'timestamp', text(child(p, 'timestamp')));
  return out as PresencePerson;
}

function device(d: unknown): PresenceDevice {
  const out = { id: attr(d, 'id') ?? '', notes: notes(d) };
  optional(out, 'deviceId', text(child(d, 'deviceID')));
  optional(out, 'userInput', text(child(d, 'user-input')));
  optional(out, 'timestamp', text(child(d, 'timestamp')));
  return out as PresenceDevice;
}

/** Parses an application/pidf+xml body. */
export function parsePidf(body: Buffer | string): PresenceDocument {
  const root = child(parseXml(LAYER, body), 'presence');
  if (root === undefined) throw new DecodeError(LAYER, 'malformed', 'root element is not <presence>');
  const entity = attr(root, 'entity');
  if (!entity) throw new DecodeError(LAYER, 'malformed', '<presence> without entity');
  return {
    entity,
    services: children(root, 'tuple').map(service),
    persons: children(root, 'person').map(person),
    devices: children(root, 'device').map(device),
    notes: notes(root),
  };
}
