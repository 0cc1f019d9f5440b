// Who may see what (Huawei US 7,899,479): each member's authorization policy
// toward the group (share or not, which parts; Action 701 — unset means the
// default, sharing everything) and the group administrator's policy on who
// may subscribe (default: members yes, outsiders no).
import { parseParts, type PresencePart } from './presenceParts.ts';
import { sameUri } from './uri.ts';

/** Action 701 default: a member who set nothing shares its presence with the group. */
const DEFAULT_MEMBER_SHARES = true;

type AdminPolicy = 'members-only' | 'anyone';
const ADMIN_POLICIES: readonly AdminPolicy[] = ['members-only', 'anyone'];
/** The group server's default (Action 904 text): members may subscribe, outsiders may not. */
const DEFAULT_ADMIN_POLICY: AdminPolicy = 'members-only';

/** The policy-relevant fields of a member (GroupMember, StateGroupMember and GroupPresenceMember all have them). */
export interface MemberPolicyFields {
  uri: string;
  role: string | null;
  attributes: Record<string, string>;
  share?: boolean | null;
  sharedParts?: readonly string[];
}

function adminPolicyOf(value: string | null | undefined): AdminPolicy {
  if (value === undefined || value === null || value === '') return DEFAULT_ADMIN_POLICY;
  if ((ADMIN_POLICIES as readonly string[]).includes(value)) return value as AdminPolicy;
  // An unknown policy must not open the group: fall back to the restrictive one.
  return DEFAULT_ADMIN_POLICY;
}

export function memberShares(m: MemberPolicyFields): boolean {
  return m.share ?? DEFAULT_MEMBER_SHARES;
}

/** Parts the member shares: null = all (an empty list means all, as in the group service). Unknown part names are ignored, not widened. */
export function memberSharedParts(m: MemberPolicyFields): PresencePart[] | null {
  const list = m.sharedParts ?? [];
  if (list.length === 0) return null;
  const known: PresencePart[] = [];
  for (const p of list) {
    try {
      known.push(...parseParts([p], 'sharedParts'));
    } catch {
      // skip unknown names: sharing fewer parts is the safe reading
    }
  }
  return known;
}

export function findMember<M extends { uri: string }>(members: readonly M[], uri: string): M | undefined {
  return members.find((m) => sameUri(m.uri, uri));
}

type WatchDecision = { allowed: true; member: boolean } | { allowed: false; reason: 'not-a-member' };

/** The administrator's policy: may this URI subscribe to (or GET) the group's presence? */
export function mayWatch(adminPolicy: string, members: readonly { uri: string }[], watcherUri: string): WatchDecision {
  const member = findMember(members, watcherUri) !== undefined;
  if (member || adminPolicyOf(adminPolicy) === 'anyone') return { allowed: true, member };
  return { allowed: false, reason: 'not-a-member' };
}
