// A stored group presence document as one requester may see it (the HTTP
// view), with the group presence processor's own exported policy function
// (visibleGroupDocument), so HTTP and NOTIFY show the same thing: the
// administrator's policy decides whether the requester may look at all, the
// record already carries each member's presence narrowed by the member's own
// authorization policy, and the requester's receiving policy (their member
// attributes) narrows members and parts. What this adds: finding the
// requester among the members by subscriber key, so a member known by
// tel:+351… or by a directory identity is the member listed as sip:…;user=phone.
import type { GroupPresence, GroupPresenceMember } from '../../../schemas/generated/records.ts';
import { visibleGroupDocument } from '../../../streams/group-presence/index.ts';
import { ACCEPT_ALL, receivingFromAttributes } from '../../../streams/group-presence/policy/receiving.ts';
import { sharedView, visibleMembers, type VisibleMember } from '../../../streams/group-presence/policy/visibility.ts';
import type { MultipartBody } from '../../../streams/group-presence/rlmi/multipartRelated.ts';
import { uriKey } from '../../../front-end/groupRoutes.ts';
import type { NumberingPlan } from '../../../subscriber/identity/msisdn.ts';

type RequesterView =
  { allowed: false; reason: 'not-a-member' } | { allowed: true; member: GroupPresenceMember | undefined; members: VisibleMember[]; document: MultipartBody };

/** The requester's member entry: by subscriber key or URI, however written (tel: vs sip:…;user=phone). */
export function requesterMember(
  gp: Pick<GroupPresence, 'members'>,
  requesterUri: string,
  plan: NumberingPlan,
  requesterKey?: string,
): GroupPresenceMember | undefined {
  const keys = new Set<string>();
  const own = uriKey(requesterUri, plan);
  if (own) keys.add(own);
  if (requesterKey) keys.add(requesterKey);
  return gp.members.find((m) => keys.has(m.subscriber) || keys.has(uriKey(m.uri, plan) ?? ''));
}

export function requesterView(gp: GroupPresence, requesterUri: string, plan: NumberingPlan, requesterKey?: string): RequesterView {
  const member = requesterMember(gp, requesterUri, plan, requesterKey);
  // The member's own URI stands for the requester, so the policy functions (which compare URIs) find it.
  const as = member?.uri ?? requesterUri;
  const doc = visibleGroupDocument(gp, as);
  if (!doc.allowed) return { allowed: false, reason: 'not-a-member' };
  // The same narrowing, as a list for the JSON answer.
  const policy = member ? receivingFromAttributes(member.attributes) : ACCEPT_ALL;
  const members = visibleMembers(gp.members, gp.members.map(sharedView), as, policy);
  return { allowed: true, member, members, document: { contentType: doc.contentType, body: doc.body } };
}
