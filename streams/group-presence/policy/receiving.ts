// A watcher's receiving policy (Huawei: refuse, only some members, only some
// parts, only members with the same role), from the SUBSCRIBE body (an RFC
// 4661 filter document) or from the watcher's member attributes set through
// the group API. The SUBSCRIBE's filter, when present, wins: it is the newer
// and more specific request (RFC 4660 §3).
import { attr, child, children, parseXml, text } from '../../../presence-document/xml.ts';
import { parseParts, type PresencePart } from './presenceParts.ts';

export interface ReceivingPolicy {
  /** Accept no member presence at all (basic group information is still sent). */
  refuse: boolean;
  /** Only members with one of these roles; 'same' = the watcher's own role in the group; null = any role. */
  roles: string[] | 'same' | null;
  /** Only these member URIs; null = all members. */
  members: string[] | null;
  /** Only these parts of each member's presence; null = all parts. */
  parts: PresencePart[] | null;
}

export const ACCEPT_ALL: ReceivingPolicy = Object.freeze({ refuse: false, roles: null, members: null, parts: null }) as ReceivingPolicy;

/** Member attribute names of the receiving policy (the group API's). */
export const RECEIVE_ATTRIBUTES = { refuse: 'receive', roles: 'receive-roles', members: 'receive-members', parts: 'receive-parts' } as const;

export class ReceivingPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReceivingPolicyError';
  }
}

const commaList = (v: string) =>
  v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** From member attributes: receive=refuse, receive-roles=a,b|same, receive-members=uri,uri, receive-parts=basic,note. */
export function receivingFromAttributes(attributes: Readonly<Record<string, string>> | undefined): ReceivingPolicy {
  if (!attributes) return ACCEPT_ALL;
  const refuse = (attributes[RECEIVE_ATTRIBUTES.refuse] ?? '').trim().toLowerCase() === 'refuse';
  const rolesRaw = attributes[RECEIVE_ATTRIBUTES.roles];
  const roles = rolesRaw === undefined || rolesRaw.trim() === '' ? null : rolesRaw.trim().toLowerCase() === 'same' ? 'same' : commaList(rolesRaw);
  const membersRaw = attributes[RECEIVE_ATTRIBUTES.members];
  const members = membersRaw === undefined || membersRaw.trim() === '' ? null : commaList(membersRaw);
  const partsRaw = attributes[RECEIVE_ATTRIBUTES.parts];
  let parts: PresencePart[] | null = null;
  if (partsRaw !== undefined && partsRaw.trim() !== '') {
    try {
      parts = parseParts(commaList(partsRaw), RECEIVE_ATTRIBUTES.parts);
    } catch {
      // A bad stored attribute narrows rather than widens: only the basic status.
      parts = ['basic'];
    }
  }
  return { refuse, roles, members, parts };
}

/** Which part an RFC 4661 <include type="xpath"> selects, from the PIDF/RPID element it names. */
const XPATH_PARTS: ReadonlyArray<[RegExp, PresencePart]> = [
  [/basic|status/, 'basic'],
  [/contact|tuple\b(?!.*status)|deviceID|timestamp/i, 'network'],
  [/on-the-phone/, 'call'],
  [/activities|mood|user-input/, 'activities'],
  [/device\b|place-type|location|geopriv/, 'location'],
  [/note/, 'note'],
];

function partsOfXpath(xpath: string): PresencePart[] {
  const found = XPATH_PARTS.filter(([re]) => re.test(xpath)).map(([, p]) => p);
  if (found.length === 0)
    throw new ReceivingPolicyError(`filter <include>${xpath}</include> selects no presence part we know (basic, network, call, location, activities, note)`);
  return found;
}

/** An <exclude> of the whole document ("/", "/presence", "//*"): the watcher accepts nothing. */
const EXCLUDES_ALL = /^\s*(\/|\/\/\*|\/[a-z]*:?presence)\s*$/i;

/**
 * From an RFC 4661 filter document (SUBSCRIBE body, application/simple-filter+xml):
 *  - a <filter uri="…"> applies to that resource (member) of the list: the
 *    watcher receives only the members named by such filters;
 *  - <what><include type="xpath">…</include> selects parts (by the element named);
 *  - <what><exclude>/</exclude> (the whole document) refuses member presence (in a uri filter: that member's);
 *  - <role xmlns="urn:presence-gateway:params:xml:ns:group-filter">same</role> (or a comma list) filters by role.
 * Throws ReceivingPolicyError for a document it cannot honour.
 */
export function receivingFromFilter(body: Buffer | string): ReceivingPolicy {
  let root: unknown;
  try {
    root = child(parseXml('simple-filter', body), 'filter-set');
  } catch (e) {
    throw new ReceivingPolicyError(`filter document is not well-formed XML: ${(e as Error).message}`);
  }
  if (root === undefined) throw new ReceivingPolicyError('filter document root is not <filter-set> (RFC 4661)');
  const filters = children(root, 'filter').filter((f) => attr(f, 'remove') !== 'true' && attr(f, 'enabled') !== 'false');
  let refuse = false;
  let roles: string[] | 'same' | null = null;
  const members: string[] = [];
  let parts: PresencePart[] | null = null;
  const excluded: string[] = [];
  for (const f of filters) {
    const uri = attr(f, 'uri');
    // A domain filter applies to the members of that domain only; one policy for the whole list cannot say that.
    if (attr(f, 'domain')) throw new ReceivingPolicyError(`filter <filter domain="${attr(f, 'domain')}"> is not supported; name members with uri="…"`);
    if (uri) members.push(uri);
    // Triggers say when to notify; ignoring them would notify on every change (RFC 4660: refuse what we cannot do).
    if (children(f, 'trigger').length > 0) throw new ReceivingPolicyError('filter <trigger> is not supported; only <what> and the role extension');
    for (const what of children(f, 'what')) {
      for (const inc of children(what, 'include')) {
        const type = attr(inc, 'type') ?? 'xpath';
        if (type !== 'xpath') throw new ReceivingPolicyError(`filter <include type="${type}"> is not supported (only xpath)`);
        const add = partsOfXpath(text(inc) ?? '');
        parts = [...new Set([...(parts ?? []), ...add])];
      }
      for (const exc of children(what, 'exclude')) {
        // Scoped to one member (uri="…"): only that member is dropped; unscoped: every member.
        if (EXCLUDES_ALL.test(text(exc) ?? '')) {
          if (uri) excluded.push(uri);
          else refuse = true;
        } else
          throw new ReceivingPolicyError(
            `filter <exclude>${text(exc) ?? ''}</exclude>: only excluding the whole document is supported; use <include> to choose parts`,
          );
      }
    }
    const role = child(f, 'role');
    if (role !== undefined) {
      const v = (text(role) ?? '').trim();
      roles = v.toLowerCase() === 'same' ? 'same' : commaList(v);
    }
  }
  const received = members.filter((u) => !excluded.includes(u));
  return { refuse, roles, members: members.length ? received : null, parts };
}
