// A subscriber's side of the group join (MemberGroupsState): the groups it
// belongs to and its last presence. Pure: a record in, the new state and the
// group-member-presence records to send out.
import type { GroupMemberPresence, GroupMembership, MemberGroupsState, Presence } from '../../schemas/generated/records.ts';

export function newMemberGroups(subscriber: string, nowMs: number): MemberGroupsState {
  return { subscriber, groups: [], basic: null, activities: null, pidf: null, dialogs: null, presenceVersion: 0, presenceUpdatedAt: null, updatedAt: nowMs };
}

/** The member's presence as one of its groups gets it (member=false: it left, no presence). */
function memberPresenceFor(st: MemberGroupsState, groupId: string, member: boolean, nowMs: number): GroupMemberPresence {
  return {
    groupId,
    subscriber: st.subscriber,
    member,
    basic: member ? st.basic : null,
    activities: member ? st.activities : null,
    pidf: member ? st.pidf : null,
    dialogs: member ? st.dialogs : null,
    presenceVersion: st.presenceVersion,
    presenceUpdatedAt: st.presenceUpdatedAt,
    time: nowMs,
  };
}

export interface MemberOutcome {
  /** Null: nothing changed, store nothing. */
  state: MemberGroupsState | null;
  out: GroupMemberPresence[];
}

/** A current-presence record: fans out to every group when the presence changed (older versions and repeats do nothing). */
export function applyPresence(st: MemberGroupsState, p: Presence, nowMs: number): MemberOutcome {
  if (p.version < st.presenceVersion) return { state: null, out: [] };
  // A call change can leave the PIDF as it was (a second call while on the phone): the dialogs count too.
  if (p.pidf === st.pidf && p.basic === st.basic && p.activities === st.activities && p.dialogs === st.dialogs) return { state: null, out: [] };
  const next: MemberGroupsState = {
    ...st,
    basic: p.basic,
    activities: p.activities,
    pidf: p.pidf,
    dialogs: p.dialogs,
    presenceVersion: p.version,
    presenceUpdatedAt: p.updatedAt,
    updatedAt: nowMs,
  };
  return { state: next, out: next.groups.map((g) => memberPresenceFor(next, g.groupId, true, nowMs)) };
}

/**
 * A join or leave: a join sends the presence held now (Action 508 — a member
 * who joins later is seen at once), a leave tells the group to forget it.
 * Repeats are answered again: idempotent at the group's side.
 */
export function applyMembership(st: MemberGroupsState, m: GroupMembership, nowMs: number): MemberOutcome {
  const groups = st.groups.filter((g) => g.groupId !== m.groupId);
  if (m.member) groups.push({ groupId: m.groupId, memberUri: m.memberUri });
  const next: MemberGroupsState = { ...st, groups, updatedAt: nowMs };
  return { state: next, out: [memberPresenceFor(next, m.groupId, m.member, nowMs)] };
}

/** A subscriber in no group and without presence needs no state. */
export const isEmpty = (st: MemberGroupsState) => st.groups.length === 0 && st.pidf === null;
