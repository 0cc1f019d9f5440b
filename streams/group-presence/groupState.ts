// A group's state as the group presence processor keeps it (GroupPresenceState,
// changelog-backed): basic group information from the groups topic, each
// member's presence from group-member-presence, and the group watchers'
// dialogs. Pure functions: records in, state changes and records out.
import type { Group, GroupMemberPresence, GroupMembership, GroupPresenceState, StateGroupMember } from '../../schemas/generated/records.ts';

export const groupPresentity = (groupId: string) => `group:${groupId}`;

export function newGroupState(groupId: string, nowMs: number): GroupPresenceState {
  return {
    groupId,
    version: 0,
    exists: false,
    uri: '',
    name: '',
    groupVersion: 0,
    adminPolicy: 'members-only',
    attributes: {},
    members: [],
    watchers: [],
    updatedAt: nowMs,
  };
}

/** Member position by subscriber key (rebuilt when the member list changes). */
export function memberIndex(st: GroupPresenceState): Map<string, number> {
  return new Map(st.members.map((m, i) => [m.subscriber, i]));
}

/**
 * A private copy of a state for one batch, copy-on-write: member records are
 * shared with the committed state and replaced, never mutated (a full deep
 * copy of a 10,000-member group costs more than the change itself). Watchers
 * are copied, they change on every NOTIFY.
 */
export function cloneState(st: GroupPresenceState): GroupPresenceState {
  return {
    ...st,
    attributes: { ...st.attributes },
    members: st.members.slice(),
    watchers: st.watchers.map((w) => ({
      ...w,
      routeSet: [...w.routeSet],
      seen: { ...w.seen },
      dialogVersions: { ...w.dialogVersions },
      dialogsTold: { ...w.dialogsTold },
    })),
  };
}

interface GroupRecordOutcome {
  /** Something in the basic group information changed (Actions 807-810). */
  infoChanged: boolean;
  /** Join/leave records for the members' partitions (foreign-key join). */
  memberships: GroupMembership[];
}

const infoOf = (m: Pick<StateGroupMember, 'uri' | 'role' | 'displayName' | 'attributes' | 'share' | 'sharedParts'>) =>
  JSON.stringify([m.uri, m.role, m.displayName, Object.entries(m.attributes).sort(), m.share, m.sharedParts]);

/**
 * Applies a groups record (null: tombstone, the group was deleted). Members
 * that stay keep their presence; members that join get it from the membership
 * processor (Action 508), members that leave are forgotten. An older group
 * version than the one held is ignored (the outbox can replay).
 */
export function applyGroup(st: GroupPresenceState, g: Group | null, nowMs: number): GroupRecordOutcome {
  const memberships: GroupMembership[] = [];
  const leave = (m: StateGroupMember, version: number) =>
    memberships.push({ subscriber: m.subscriber, groupId: st.groupId, memberUri: m.uri, member: false, groupVersion: version, time: nowMs });
  if (g === null) {
    if (!st.exists) return { infoChanged: false, memberships };
    for (const m of st.members) leave(m, st.groupVersion);
    Object.assign(st, { exists: false, members: [], attributes: {}, name: '', updatedAt: nowMs });
    return { infoChanged: true, memberships };
  }
  // After a tombstone the last live version is kept: a replay of it (or older) must not bring the
  // group back; a group created again under the id has a higher version (one sequence, group service).
  if (st.exists ? g.version < st.groupVersion : g.version <= st.groupVersion) return { infoChanged: false, memberships };
  const oldAt = memberIndex(st);
  const seen = new Set<string>();
  const members: StateGroupMember[] = [];
  let infoChanged =
    !st.exists ||
    st.uri !== g.uri ||
    st.name !== g.name ||
    st.adminPolicy !== g.adminPolicy ||
    JSON.stringify(Object.entries(st.attributes).sort()) !== JSON.stringify(Object.entries(g.attributes).sort());
  for (const gm of g.members) {
    if (seen.has(gm.subscriber)) continue; // one entry per subscriber: the first wins
    seen.add(gm.subscriber);
    const at = oldAt.get(gm.subscriber);
    const prev = at === undefined ? undefined : st.members[at];
    const m: StateGroupMember = {
      subscriber: gm.subscriber,
      uri: gm.uri,
      role: gm.role,
      displayName: gm.displayName,
      attributes: { ...gm.attributes },
      share: gm.share ?? null,
      sharedParts: [...(gm.sharedParts ?? [])],
      basic: prev?.basic ?? null,
      activities: prev?.activities ?? null,
      pidf: prev?.pidf ?? null,
      dialogs: prev?.dialogs ?? null,
      presenceVersion: prev?.presenceVersion ?? 0,
    };
    if (!prev || prev.uri !== m.uri)
      memberships.push({ subscriber: m.subscriber, groupId: st.groupId, memberUri: m.uri, member: true, groupVersion: g.version, time: nowMs });
    if (!prev || infoOf(prev) !== infoOf(m)) infoChanged = true;
    members.push(m);
  }
  for (const m of st.members)
    if (!seen.has(m.subscriber)) {
      leave(m, g.version);
      infoChanged = true;
    }
  if (!infoChanged && members.map((m) => m.subscriber).join('\u0000') !== st.members.map((m) => m.subscriber).join('\u0000')) infoChanged = true;
  Object.assign(st, {
    exists: true,
    uri: g.uri,
    name: g.name,
    groupVersion: g.version,
    adminPolicy: g.adminPolicy,
    attributes: { ...g.attributes },
    members,
    updatedAt: nowMs,
  });
  return { infoChanged, memberships };
}

/**
 * Applies a member's presence for this group. Ignored when the subscriber is
 * not (or no longer) a member, when it is older than what is held, or when
 * nothing visible changed. Returns whether the member's presence changed.
 */
export function applyMemberPresence(st: GroupPresenceState, index: Map<string, number>, mp: GroupMemberPresence, nowMs: number): boolean {
  if (!mp.member) return false; // leaving is the groups record's business, already applied
  const at = index.get(mp.subscriber);
  const m = at === undefined ? undefined : st.members[at];
  if (at === undefined || !m || m.subscriber !== mp.subscriber) return false;
  if (mp.presenceVersion < m.presenceVersion) return false;
  const same = m.pidf === mp.pidf && m.basic === mp.basic && m.activities === mp.activities && m.dialogs === mp.dialogs;
  // Replaced, not mutated: the record may be shared with the committed state (cloneState).
  st.members[at] = same
    ? { ...m, presenceVersion: mp.presenceVersion }
    : { ...m, basic: mp.basic, activities: mp.activities, pidf: mp.pidf, dialogs: mp.dialogs, presenceVersion: mp.presenceVersion };
  if (same) return false;
  st.updatedAt = nowMs;
  return true;
}

/**
 * A member that was deleted as a subscriber (GroupMemberPresence.deleted): dropped from the
 * member list although the group record may still name it, so watchers get it as
 * `noresource` and documents stop listing it. Returns whether it was a member.
 */
export function applyMemberDeleted(st: GroupPresenceState, mp: GroupMemberPresence, nowMs: number): boolean {
  const members = st.members.filter((m) => m.subscriber !== mp.subscriber);
  if (members.length === st.members.length) return false;
  st.members = members;
  st.updatedAt = nowMs;
  return true;
}
