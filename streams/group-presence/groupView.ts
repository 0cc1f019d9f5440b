// The per-change rendering of a group: what the group may see of each member
// (computed once per change, shared by every watcher), the basic group
// information part, and the group-presence record (the document as the group
// sees it, with what visibleGroupDocument needs to narrow it per requester).
import { createHash } from 'node:crypto';
import type { GroupPresence, GroupPresenceState } from '../../schemas/generated/records.ts';
import { memberSharedParts } from './policy/authorization.ts';
import { sharedView, type MemberWithPresence, type VisibleMember } from './policy/visibility.ts';
import { renderGroupDocument } from './rlmi/groupDocument.ts';
import { renderGroupInfo } from './rlmi/groupInfo.ts';
import { dialogSharedView } from './rlmi/memberDialogs.ts';

export const DIALOG_EVENT = 'dialog';

export interface GroupView {
  members: MemberWithPresence[];
  shared: VisibleMember[];
  /** Member position by subscriber key. */
  position: Map<string, number>;
  /** The basic group information XML part. */
  info: string;
  /** What Event: dialog watchers may see of each member (dialogs JSON in `pidf`), made on first use. */
  dialogShared?: VisibleMember[];
}

/** The members as a watcher of this event package may see them, before its receiving policy. */
export function sharedFor(st: GroupPresenceState, view: GroupView, event: string): VisibleMember[] {
  if (event !== DIALOG_EVENT) return view.shared;
  return (view.dialogShared ??= st.members.map((m, i) => dialogSharedView(m, view.shared[i]!)));
}

/** Rendered group information by group id, valid for one group version (it only changes with the groups record). */
export type GroupInfoCache = Map<string, { key: string; info: string }>;

export function groupView(st: GroupPresenceState, infoCache?: GroupInfoCache): GroupView {
  const members: MemberWithPresence[] = st.members;
  const key = `${st.groupVersion}\u0000${st.exists}`;
  let info = infoCache?.get(st.groupId)?.key === key ? infoCache.get(st.groupId)!.info : undefined;
  if (info === undefined) {
    info = renderGroupInfo({ uri: st.uri, name: st.name, version: st.groupVersion, attributes: st.attributes, members: st.members });
    infoCache?.set(st.groupId, { key, info });
  }
  return { members, shared: members.map(sharedView), position: new Map(members.map((m, i) => [m.subscriber, i])), info };
}

/** What a watcher last received of a member (RLMI instance state and PIDF), compared to send only changes. */
export function fingerprint(v: VisibleMember): string {
  if (v.state !== 'active' || v.pidf === null) return v.state === 'active' ? 'pending' : `${v.state}:${v.reason ?? ''}`;
  return `active:${createHash('sha1').update(v.pidf).digest('base64').slice(0, 16)}`;
}

/** The member's basic status as the group may see it: null unless it shares its presence, including the basic part. */
function sharedBasic(m: GroupPresenceState['members'][number], shared: VisibleMember): string | null {
  if (shared.state !== 'active') return null;
  const parts = memberSharedParts(m);
  return parts === null || parts.includes('basic') ? m.basic : null;
}

function countOpen(st: GroupPresenceState, shared: readonly VisibleMember[]): number {
  let n = 0;
  for (let i = 0; i < st.members.length; i++) if (sharedBasic(st.members[i]!, shared[i]!) === 'open') n++;
  return n;
}

/** The group-presence record: the full document as the group may see it (member authorization applied, no receiving policy). */
export function groupPresenceRecord(st: GroupPresenceState, view: GroupView, nowMs: number): GroupPresence {
  const doc = renderGroupDocument({
    groupId: st.groupId,
    groupUri: st.uri,
    groupName: st.name,
    version: st.version,
    fullState: true,
    groupInfo: view.info,
    members: view.shared,
    removed: [],
  });
  return {
    groupId: st.groupId,
    version: st.version,
    memberCount: st.members.length,
    availableCount: countOpen(st, view.shared),
    contentType: doc.contentType,
    document: doc.body,
    updatedAt: nowMs,
    uri: st.uri,
    name: st.name,
    adminPolicy: st.adminPolicy,
    groupInfo: view.info,
    members: st.members.map((m, i) => ({
      subscriber: m.subscriber,
      uri: m.uri,
      role: m.role,
      displayName: m.displayName,
      attributes: m.attributes,
      share: m.share,
      sharedParts: m.sharedParts,
      basic: sharedBasic(m, view.shared[i]!),
      // Only what the member shares leaves the processor.
      pidf: view.shared[i]!.pidf,
    })),
  };
}
