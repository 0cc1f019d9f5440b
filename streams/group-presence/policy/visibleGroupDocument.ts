// The group presence document as one requester may see it, from a
// group-presence record: for GET /groups/{id}/presence (the group front/sink
// serves it) — the administrator's policy decides whether the requester may
// see it at all, the members' authorization policies are already applied in
// the record, and the requester's receiving policy (given, else its member
// attributes) narrows it.
import type { GroupPresence } from '../../../schemas/generated/records.ts';
import { renderGroupDocument } from '../rlmi/groupDocument.ts';
import { findMember, mayWatch } from './authorization.ts';
import { receivingFromAttributes, type ReceivingPolicy } from './receiving.ts';
import { sharedView, visibleMembers, type MemberWithPresence } from './visibility.ts';

type VisibleGroupDocument =
  { allowed: true; version: number; contentType: string; body: string; memberCount: number; visibleCount: number } | { allowed: false; reason: 'not-a-member' };

/** requesterUri null: an anonymous requester (allowed only when the group's policy is "anyone"). */
export function visibleGroupDocument(gp: GroupPresence, requesterUri: string | null, receivingPolicy?: ReceivingPolicy): VisibleGroupDocument {
  const decision = requesterUri === null ? mayWatch(gp.adminPolicy, [], '') : mayWatch(gp.adminPolicy, gp.members, requesterUri);
  if (!decision.allowed) return { allowed: false, reason: 'not-a-member' };
  const policy = receivingPolicy ?? receivingFromAttributes(requesterUri === null ? undefined : findMember(gp.members, requesterUri)?.attributes);
  const members: MemberWithPresence[] = gp.members;
  const visible = visibleMembers(members, members.map(sharedView), requesterUri, policy);
  const doc = renderGroupDocument({
    groupId: gp.groupId,
    groupUri: gp.uri,
    groupName: gp.name,
    version: gp.version,
    fullState: true,
    groupInfo: gp.groupInfo,
    members: visible,
    removed: [],
  });
  return {
    allowed: true,
    version: gp.version,
    contentType: doc.contentType,
    body: doc.body,
    memberCount: gp.memberCount,
    visibleCount: visible.filter((v) => v.state === 'active').length,
  };
}
