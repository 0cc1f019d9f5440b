// A subscriber's side of the group join (MemberGroupsState): the groups it
// belongs to and its last presence. Pure: a record in, the new state and the
// group-member-presence records to send out.
import type { GroupMemberPresence, GroupMembership, MemberGroupsState, Presence } from '../../schemas/generated/records.ts';

export function newMemberGroups(subscriber: string, nowMs: number): MemberGroupsState {
  return {
    subscriber,
    groups: [],
    basic: null,
    activities: null,
    pidf: null,
    dialogs: null,
    presenceVersion: 0,
    presenceUpdatedAt: null,
    updatedAt: nowMs,
    deleted: false,
  };
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
    deleted: false,
  };
}

/** A deleted subscriber's answer to one group: drop it (the group record may still list it). */
const deletedFrom = (subscriber: string, groupId: string, nowMs: number): GroupMemberPresence => ({
  groupId,
  subscriber,
  member: false,
  basic: null,
  activities: null,
  pidf: null,
  dialogs: null,
  presenceVersion: 0,
  presenceUpdatedAt: null,
  time: nowMs,
  deleted: true,
});

export interface MemberOutcome {
  /** Null: nothing changed, store nothing. */
  state: MemberGroupsState | null;
  out: GroupMemberPresence[];
}

/** A current-presence record: fans out to every group when the presence changed (older versions and repeats do nothing). */
export function applyPresence(st: MemberGroupsState, p: Presence, nowMs: number): MemberOutcome {
  // A deleted subscriber's event manager may still publish a last record: it reaches no group.
  if (st.deleted) return { state: null, out: [] };
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
  // The group service still lists a deleted subscriber until its rows go: every join is refused
  // again, so a later group version cannot bring it back into the document.
  if (st.deleted) return { state: null, out: m.member ? [deletedFrom(st.subscriber, m.groupId, nowMs)] : [] };
  const groups = st.groups.filter((g) => g.groupId !== m.groupId);
  if (m.member) groups.push({ groupId: m.groupId, memberUri: m.memberUri });
  const next: MemberGroupsState = { ...st, groups, updatedAt: nowMs };
  return { state: next, out: [memberPresenceFor(next, m.groupId, m.member, nowMs)] };
}

/**
 * The subscriber was deleted (directory-changes tombstone): every group it is in drops it
 * (Kafka Streams' foreign-key join answers a deleted right side the same way), its presence
 * is forgotten, and the state keeps only the deletion mark. Repeats send nothing.
 */
export function applyDeletion(st: MemberGroupsState, nowMs: number): MemberOutcome {
  if (st.deleted) return { state: null, out: [] };
  const out = st.groups.map((g) => deletedFrom(st.subscriber, g.groupId, nowMs));
  return { state: { ...newMemberGroups(st.subscriber, nowMs), deleted: true }, out };
}

/** The subscriber was provisioned (again): joins are answered normally from now on. */
export function applyProvisioned(st: MemberGroupsState, nowMs: number): MemberOutcome {
  return st.deleted ? { state: { ...st, deleted: false, updatedAt: nowMs }, out: [] } : { state: null, out: [] };
}

/** A subscriber in no group, without presence and not deleted needs no state. */
export const isEmpty = (st: MemberGroupsState) => st.groups.length === 0 && st.pidf === null && !st.deleted;
