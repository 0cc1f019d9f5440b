// What one watcher may see of a group: the members' authorization policies
// applied first (a member's refusal or part restriction holds whatever the
// watcher asks), then the watcher's receiving policy narrows further.
import { findMember, memberSharedParts, memberShares, type MemberPolicyFields } from './authorization.ts';
import { filterPidf, intersectParts, type PresencePart } from './presenceParts.ts';
import type { ReceivingPolicy } from './receiving.ts';
import { sameUri } from './uri.ts';

export interface MemberWithPresence extends MemberPolicyFields {
  subscriber: string;
  displayName: string | null;
  /** The member's PIDF as the event manager rendered it; null when no presence is known yet. */
  pidf: string | null;
}

/**
 * One member as a watcher sees it: RFC 4662 instance state
 *  - active: pidf carries what it may see;
 *  - pending: a member whose presence is not known yet;
 *  - terminated (reason rejected): the member does not share its presence with the group.
 */
export interface VisibleMember {
  subscriber: string;
  uri: string;
  displayName: string | null;
  role: string | null;
  state: 'active' | 'pending' | 'terminated';
  reason: 'rejected' | null;
  pidf: string | null;
}

/** Does the receiving policy let this member through at all (refusal, members, roles)? */
export function receives(policy: ReceivingPolicy, member: MemberPolicyFields, watcherRole: string | null): boolean {
  if (policy.refuse) return false;
  if (policy.members !== null && !policy.members.some((u) => sameUri(u, member.uri))) return false;
  if (policy.roles === 'same') return watcherRole !== null && member.role === watcherRole;
  if (policy.roles !== null) return member.role !== null && policy.roles.includes(member.role);
  return true;
}

/** The watcher's role in the group (null for an outsider or a member without one). */
export function roleOf(members: readonly MemberPolicyFields[], watcherUri: string | null): string | null {
  return watcherUri === null ? null : (findMember(members, watcherUri)?.role ?? null);
}

/** A member's presence as the group may see it (authorization only): the shared parts of its PIDF, or its refusal. */
export function sharedView(m: MemberWithPresence): VisibleMember {
  const base = { subscriber: m.subscriber, uri: m.uri, displayName: m.displayName, role: m.role };
  if (!memberShares(m)) return { ...base, state: 'terminated', reason: 'rejected', pidf: null };
  if (m.pidf === null) return { ...base, state: 'pending', reason: null, pidf: null };
  return { ...base, state: 'active', reason: null, pidf: filterPidf(m.pidf, memberSharedParts(m)) };
}

/**
 * The members a watcher receives, in member-list order. `shared` is what
 * sharedView gave (computed once per group change, not per watcher); the
 * receiving policy drops members and narrows parts further.
 */
export function visibleMembers(
  members: readonly MemberWithPresence[],
  shared: readonly VisibleMember[],
  watcherUri: string | null,
  policy: ReceivingPolicy,
): VisibleMember[] {
  const watcherRole = roleOf(members, watcherUri);
  const out: VisibleMember[] = [];
  for (let i = 0; i < members.length; i++) {
    const m = members[i]!;
    if (!receives(policy, m, watcherRole)) continue;
    const v = shared[i]!;
    if (v.state !== 'active' || policy.parts === null) {
      out.push(v);
      continue;
    }
    const parts: PresencePart[] | null = intersectParts(memberSharedParts(m), policy.parts);
    out.push({ ...v, pidf: filterPidf(m.pidf!, parts) });
  }
  return out;
}
