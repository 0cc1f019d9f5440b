// Registration information documents (RFC 3680 §5.3, application/reginfo+xml):
// the body of `Event: reg` NOTIFYs from a registrar or S-CSCF (3GPP Pi/ISC).
// Pure: model ⇄ text. A document that breaks the schema's required parts
// (version, state, aor, id, contact uri) is a DecodeError, so the caller
// counts and dead-letters it instead of applying half of it.
import { DecodeError } from '../protocols/decode/layer.ts';
import { xmlEscape } from './render.ts';
import { attr, child, children, parseXml, text } from './xml.ts';

export const REGINFO = 'application/reginfo+xml';
const NS = 'urn:ietf:params:xml:ns:reginfo';
const LAYER = 'reginfo';

/** RFC 3680 §5.1.2: a registration's states. */
export type RegistrationStateName = 'init' | 'active' | 'terminated';
export type ContactStateName = 'active' | 'terminated';
/** RFC 3680 §5.1.2: what moved a contact into its state. */
export type ContactEvent = 'registered' | 'created' | 'refreshed' | 'shortened' | 'expired' | 'deactivated' | 'probation' | 'unregistered' | 'rejected';

const REGISTRATION_STATES: ReadonlySet<string> = new Set<RegistrationStateName>(['init', 'active', 'terminated']);
const CONTACT_STATES: ReadonlySet<string> = new Set<ContactStateName>(['active', 'terminated']);
const CONTACT_EVENTS: ReadonlySet<string> = new Set<ContactEvent>([
  'registered',
  'created',
  'refreshed',
  'shortened',
  'expired',
  'deactivated',
  'probation',
  'unregistered',
  'rejected',
]);

export interface RegContact {
  readonly id: string;
  readonly state: ContactStateName;
  readonly event: ContactEvent;
  readonly uri: string;
  /** Seconds left until the binding expires (state active). */
  readonly expires?: number;
  readonly durationRegistered?: number;
  readonly retryAfter?: number;
  readonly q?: string;
  readonly callId?: string;
  readonly cseq?: number;
  readonly displayName?: string;
}

export interface RegRegistration {
  readonly aor: string;
  readonly id: string;
  readonly state: RegistrationStateName;
  readonly contacts: readonly RegContact[];
}

export interface RegInfoDocument {
  readonly version: number;
  readonly state: 'full' | 'partial';
  readonly registrations: readonly RegRegistration[];
}

function required(node: unknown, name: string, where: string): string {
  const v = attr(node, name);
  if (v === undefined || v === '') throw new DecodeError(LAYER, 'malformed', `${where} without ${name}`);
  return v;
}

function uint(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,10}$/.test(v.trim())) throw new DecodeError(LAYER, 'malformed', `${what} "${v}" is not a non-negative integer`);
  return Number(v.trim());
}

function oneOf<T extends string>(v: string, allowed: ReadonlySet<string>, what: string): T {
  if (!allowed.has(v)) throw new DecodeError(LAYER, 'malformed', `${what} "${v}"`);
  return v as T;
}

function contact(node: unknown, aor: string): RegContact {
  const where = `contact of ${aor}`;
  const uri = text(child(node, 'uri'))?.trim();
  if (!uri) throw new DecodeError(LAYER, 'malformed', `${where} without uri`);
  const displayName = text(child(node, 'display-name'))?.trim();
  const cseq = uint(attr(node, 'cseq'), 'cseq');
  return {
    id: required(node, 'id', where),
    state: oneOf<ContactStateName>(required(node, 'state', where), CONTACT_STATES, 'contact state'),
    event: oneOf<ContactEvent>(required(node, 'event', where), CONTACT_EVENTS, 'contact event'),
    uri,
    ...(attr(node, 'expires') !== undefined ? { expires: uint(attr(node, 'expires'), 'expires') } : {}),
    ...(attr(node, 'duration-registered') !== undefined ? { durationRegistered: uint(attr(node, 'duration-registered'), 'duration-registered') } : {}),
    ...(attr(node, 'retry-after') !== undefined ? { retryAfter: uint(attr(node, 'retry-after'), 'retry-after') } : {}),
    ...(attr(node, 'q') !== undefined ? { q: attr(node, 'q') } : {}),
    ...(attr(node, 'callid') !== undefined ? { callId: attr(node, 'callid') } : {}),
    ...(cseq !== undefined ? { cseq } : {}),
    ...(displayName ? { displayName } : {}),
  };
}

export function parseRegInfo(input: Buffer | string): RegInfoDocument {
  const root = child(parseXml(LAYER, input), 'reginfo');
  if (root === undefined) throw new DecodeError(LAYER, 'malformed', 'no reginfo root element');
  const version = uint(required(root, 'version', 'reginfo'), 'version') as number;
  const state = oneOf<'full' | 'partial'>(required(root, 'state', 'reginfo'), new Set(['full', 'partial']), 'reginfo state');
  const registrations = children(root, 'registration').map((r): RegRegistration => {
    const aor = required(r, 'aor', 'registration');
    return {
      aor,
      id: required(r, 'id', `registration ${aor}`),
      state: oneOf<RegistrationStateName>(required(r, 'state', `registration ${aor}`), REGISTRATION_STATES, 'registration state'),
      contacts: children(r, 'contact').map((c) => contact(c, aor)),
    };
  });
  return { version, state, registrations };
}

const attribute = (name: string, v: string | number | undefined) => (v === undefined ? '' : ` ${name}="${xmlEscape(String(v))}"`);

function renderContact(c: RegContact): string[] {
  const attrs =
    attribute('id', c.id) +
    attribute('state', c.state) +
    attribute('event', c.event) +
    attribute('duration-registered', c.durationRegistered) +
    attribute('expires', c.expires) +
    attribute('retry-after', c.retryAfter) +
    attribute('q', c.q) +
    attribute('callid', c.callId) +
    attribute('cseq', c.cseq);
  return [
    `    <contact${attrs}>`,
    `      <uri>${xmlEscape(c.uri)}</uri>`,
    ...(c.displayName !== undefined ? [`      <display-name>${xmlEscape(c.displayName)}</display-name>`] : []),
    '    </contact>',
  ];
}

/** Renders a document (tests and the ISC side use it to produce NOTIFY bodies). */
export function renderRegInfo(doc: RegInfoDocument): string {
  const lines = ['<?xml version="1.0"?>', `<reginfo xmlns="${NS}" version="${doc.version}" state="${doc.state}">`];
  for (const r of doc.registrations) {
    lines.push(`  <registration${attribute('aor', r.aor)}${attribute('id', r.id)}${attribute('state', r.state)}>`);
    for (const c of r.contacts) lines.push(...renderContact(c));
    lines.push('  </registration>');
  }
  lines.push('</reginfo>', '');
  return lines.join('\n');
}
