// Validation of the group service's requests (Pm interface). Huawei Action 502:
// the group server decides whether a group was established "based on whether
// the format of an establishment request ... is correct" — so a request is
// checked field by field and refused with the first bad field named, before
// anything reaches the database. No I/O here.
import { parseUri } from '../../protocols/decode/sip/uri.ts';

export class ValidationError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'ValidationError';
  }
}

/** Who may subscribe to the group's presence (the group-admin policy). */
const ADMIN_POLICIES = ['members-only', 'anyone'] as const;
export type AdminPolicy = (typeof ADMIN_POLICIES)[number];

/** Parts of a member's presence its authorization policy can share with the group; [] means all. */
const SHAREABLE_PARTS = ['basic', 'network', 'call', 'location', 'activities', 'note'] as const;

const LIMITS = {
  idLength: 64,
  nameLength: 200,
  uriLength: 512,
  attributes: 64,
  attributeKeyLength: 64,
  attributeValueLength: 1024,
  roleLength: 64,
  displayNameLength: 200,
  membersPerRequest: 1000,
} as const;

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const ATTRIBUTE_KEY = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const ROLE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A member's settings in the group: attributes and its authorization policy toward the group (Action 701). */
export interface MemberSettings {
  role: string | null;
  displayName: string | null;
  attributes: Record<string, string>;
  share: boolean;
  sharedParts: string[];
}

/** A member as given in a request: its identity (sip:/sips:/tel: URI or subscriber key) and settings. */
interface MemberInput extends MemberSettings {
  identity: string;
}

interface NewGroup {
  id: string | undefined;
  uri: string;
  name: string;
  attributes: Record<string, string>;
  adminPolicy: AdminPolicy;
  members: MemberInput[];
}

export interface GroupPatch {
  name?: string;
  /** Merged into the stored attributes (RFC 7396): null removes a key. */
  attributes?: Record<string, string | null>;
  adminPolicy?: AdminPolicy;
  /** The version the client last saw (like If-Match); a mismatch is refused. */
  version?: number;
}

type Json = Record<string, unknown>;

function object(value: unknown, field: string): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ValidationError(field, 'must be a JSON object');
  return value as Json;
}

function onlyKnown(body: Json, known: readonly string[], prefix: string): void {
  for (const k of Object.keys(body)) if (!known.includes(k)) throw new ValidationError(`${prefix}${k}`, `unknown field; expected ${known.join(', ')}`);
}

function text(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string') throw new ValidationError(field, 'must be a string');
  const v = value.trim();
  if (v.length === 0) throw new ValidationError(field, 'must not be empty');
  if (v.length > max) throw new ValidationError(field, `must be at most ${max} characters`);
  if (CONTROL.test(v)) throw new ValidationError(field, 'must not contain control characters');
  return v;
}

function optionalText(value: unknown, field: string, max: number): string | null {
  return value === undefined || value === null ? null : text(value, field, max);
}

export function checkGroupId(value: unknown, field = 'id'): string {
  if (typeof value !== 'string') throw new ValidationError(field, 'must be a string');
  if (value.length === 0 || value.length > LIMITS.idLength || !ID.test(value)) {
    throw new ValidationError(field, `must be 1-${LIMITS.idLength} letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  return value;
}

/** The group's URI (a SIP URI with a user part, e.g. sip:friends@groups.example.com), in canonical form: sips→sip, host lower-cased, parameters dropped. */
export function checkGroupUri(value: unknown, field = 'uri'): string {
  const raw = text(value, field, LIMITS.uriLength);
  const u = parseUri(raw);
  if (!u || (u.scheme !== 'sip' && u.scheme !== 'sips')) throw new ValidationError(field, `must be a sip: or sips: URI, not ${raw}`);
  if (!u.user || !u.host) throw new ValidationError(field, `must name a user and a host (sip:name@domain), not ${raw}`);
  if (!/^[A-Za-z0-9.-]+$|^[0-9a-fA-F:.]+$/.test(u.host)) throw new ValidationError(field, `has an invalid host ${u.host}`);
  return `sip:${u.user}@${u.host.toLowerCase()}`;
}

function checkAdminPolicy(value: unknown, field = 'adminPolicy'): AdminPolicy {
  if (!ADMIN_POLICIES.includes(value as AdminPolicy)) throw new ValidationError(field, `must be one of ${ADMIN_POLICIES.join(', ')}`);
  return value as AdminPolicy;
}

function attributeKey(k: string, field: string): void {
  if (k.length > LIMITS.attributeKeyLength || !ATTRIBUTE_KEY.test(k)) {
    throw new ValidationError(`${field}.${k}`, `attribute names are 1-${LIMITS.attributeKeyLength} letters, digits, '.', '_', ':' or '-'`);
  }
}

function attributeValue(v: unknown, field: string): string {
  if (typeof v !== 'string') throw new ValidationError(field, 'attribute values must be strings');
  if (v.length > LIMITS.attributeValueLength) throw new ValidationError(field, `must be at most ${LIMITS.attributeValueLength} characters`);
  return v;
}

function checkAttributes(value: unknown, field = 'attributes'): Record<string, string> {
  const o = object(value, field);
  const keys = Object.keys(o);
  if (keys.length > LIMITS.attributes) throw new ValidationError(field, `at most ${LIMITS.attributes} attributes`);
  const out: Record<string, string> = {};
  for (const k of keys) {
    attributeKey(k, field);
    out[k] = attributeValue(o[k], `${field}.${k}`);
  }
  return out;
}

/** Attributes for a merge: a null value removes the key. */
function checkAttributeChanges(value: unknown, field = 'attributes'): Record<string, string | null> {
  const o = object(value, field);
  const keys = Object.keys(o);
  if (keys.length > LIMITS.attributes) throw new ValidationError(field, `at most ${LIMITS.attributes} attributes`);
  const out: Record<string, string | null> = {};
  for (const k of keys) {
    attributeKey(k, field);
    out[k] = o[k] === null ? null : attributeValue(o[k], `${field}.${k}`);
  }
  return out;
}

function checkSharedParts(value: unknown, field = 'sharedParts'): string[] {
  if (!Array.isArray(value)) throw new ValidationError(field, `must be an array of ${SHAREABLE_PARTS.join(', ')} ([] = all)`);
  const seen = new Set<string>();
  value.forEach((p, i) => {
    if (!SHAREABLE_PARTS.includes(p as (typeof SHAREABLE_PARTS)[number]))
      throw new ValidationError(`${field}[${i}]`, `must be one of ${SHAREABLE_PARTS.join(', ')}`);
    if (seen.has(p as string)) throw new ValidationError(`${field}[${i}]`, `${p as string} is listed twice`);
    seen.add(p as string);
  });
  // Kept in the table's order, so equal policies compare equal.
  return SHAREABLE_PARTS.filter((p) => seen.has(p));
}

const MEMBER_FIELDS = ['role', 'displayName', 'attributes', 'share', 'sharedParts'] as const;

/** The body of PUT /groups/{id}/members/{member} (every field optional; an absent one takes its default). */
export function parseMemberSettings(body: unknown, prefix = ''): MemberSettings {
  const o = body === undefined ? {} : object(body, prefix.replace(/\.$/, '') || 'body');
  onlyKnown(o, MEMBER_FIELDS, prefix);
  if (o['share'] !== undefined && typeof o['share'] !== 'boolean') throw new ValidationError(`${prefix}share`, 'must be true or false');
  const role = optionalText(o['role'], `${prefix}role`, LIMITS.roleLength);
  if (role !== null && !ROLE.test(role)) throw new ValidationError(`${prefix}role`, "must be letters, digits, '.', '_' or '-' (e.g. admin, member)");
  return {
    role,
    displayName: optionalText(o['displayName'], `${prefix}displayName`, LIMITS.displayNameLength),
    attributes: o['attributes'] === undefined ? {} : checkAttributes(o['attributes'], `${prefix}attributes`),
    share: (o['share'] as boolean | undefined) ?? true,
    sharedParts: o['sharedParts'] === undefined ? [] : checkSharedParts(o['sharedParts'], `${prefix}sharedParts`),
  };
}

/** A member identity as written: a sip:/sips:/tel: URI or a subscriber key (msisdn:+…, aor:sip:…). Resolution to a key is the resolver's job. */
export function checkMemberIdentity(value: unknown, field: string): string {
  const v = text(value, field, LIMITS.uriLength);
  if (!isMemberIdentity(v))
    throw new ValidationError(field, `must be a sip:, sips: or tel: URI or a subscriber key (msisdn:+…, imsi:…, aor:sip:…), not ${JSON.stringify(v)}`);
  return v;
}

/** A URI that parses (a sip:/sips: URI with a host and no spaces, a tel: number) or a subscriber key of one: a prefix alone is not stored. */
function isMemberIdentity(v: string): boolean {
  const lower = v.toLowerCase();
  if (lower.startsWith('msisdn:')) return /^\+?\d{3,15}$/.test(v.slice(7));
  if (lower.startsWith('imsi:')) return /^\d{6,15}$/.test(v.slice(5));
  if (lower.startsWith('aor:')) return isMemberIdentity(v.slice(4)) && /^(sips?):/i.test(v.slice(4));
  if (/[\s<>"]/.test(v)) return false;
  const u = parseUri(v);
  if (!u) return false;
  if (u.scheme === 'tel') return /^(\+[\d().-]*\d[\d().-]*|[\d*#().-]*[\d*#][\d*#().-]*)$/.test(u.user ?? '');
  return (u.scheme === 'sip' || u.scheme === 'sips') && u.host.length > 0;
}

const GROUP_FIELDS = ['id', 'uri', 'name', 'attributes', 'adminPolicy', 'members'] as const;

/** The body of POST /groups: the establishment request (Action 501/601). */
export function parseNewGroup(body: unknown): NewGroup {
  const o = object(body, 'body');
  onlyKnown(o, GROUP_FIELDS, '');
  // Fields are checked in the order they are documented, so the first bad one is named.
  const id = o['id'] === undefined ? undefined : checkGroupId(o['id']);
  if (o['uri'] === undefined) throw new ValidationError('uri', 'is required (the group URI, e.g. sip:friends@groups.example.com)');
  const uri = checkGroupUri(o['uri']);
  if (o['name'] === undefined) throw new ValidationError('name', 'is required');
  const name = text(o['name'], 'name', LIMITS.nameLength);
  const attributes = o['attributes'] === undefined ? {} : checkAttributes(o['attributes']);
  const adminPolicy: AdminPolicy = o['adminPolicy'] === undefined ? 'members-only' : checkAdminPolicy(o['adminPolicy']);
  const members: MemberInput[] = [];
  if (o['members'] !== undefined) {
    if (!Array.isArray(o['members'])) throw new ValidationError('members', 'must be an array of members');
    if (o['members'].length > LIMITS.membersPerRequest) throw new ValidationError('members', `at most ${LIMITS.membersPerRequest} members per request`);
    o['members'].forEach((m, i) => {
      const mo = object(m, `members[${i}]`);
      const { uri: memberUri, ...settings } = mo;
      if (memberUri === undefined) throw new ValidationError(`members[${i}].uri`, 'is required');
      members.push({ identity: checkMemberIdentity(memberUri, `members[${i}].uri`), ...parseMemberSettings(settings, `members[${i}].`) });
    });
  }
  return {
    id,
    uri,
    name,
    attributes,
    adminPolicy,
    members,
  };
}

const PATCH_FIELDS = ['name', 'attributes', 'adminPolicy', 'version'] as const;

/** The body of PATCH /groups/{id}: a JSON merge patch of name, attributes and adminPolicy. */
export function parseGroupPatch(body: unknown): GroupPatch {
  const o = object(body, 'body');
  onlyKnown(o, PATCH_FIELDS, '');
  if (Object.keys(o).filter((k) => k !== 'version').length === 0)
    throw new ValidationError('body', `nothing to change; give ${PATCH_FIELDS.slice(0, 3).join(', ')}`);
  const out: GroupPatch = {};
  if (o['name'] !== undefined) out.name = text(o['name'], 'name', LIMITS.nameLength);
  if (o['attributes'] !== undefined) out.attributes = checkAttributeChanges(o['attributes']);
  if (o['adminPolicy'] !== undefined) out.adminPolicy = checkAdminPolicy(o['adminPolicy']);
  if (o['version'] !== undefined) {
    if (!Number.isSafeInteger(o['version']) || (o['version'] as number) < 1) throw new ValidationError('version', 'must be a positive integer');
    out.version = o['version'] as number;
  }
  return out;
}

/** If-Match: `"17"`, `17`, `W/"17"` or `*` (any) → the version, '*' or undefined; anything else is a 400. */
export function parseIfMatch(header: string | undefined): number | '*' | undefined {
  if (header === undefined) return undefined;
  const v = header.trim();
  if (v === '*') return '*';
  const m = /^(?:W\/)?"?(\d{1,15})"?$/.exec(v);
  if (!m) throw new ValidationError('If-Match', `must be an ETag this service gave ("<version>"), not ${v}`);
  return Number(m[1]);
}
