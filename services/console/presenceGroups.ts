// The groups as the console shows them: basic group information and policy
// from `groups` (the group service's records), members' presence from
// `group-presence` (the group presence processor's records, members'
// authorization already applied). What one watcher sees is decided by the
// group presence policy functions, which live on a floor the console may not
// import (streams/, connectors/): the caller hands them in as a
// GroupPerspective (cli/commands/console.ts), so the console shows exactly
// what NOTIFYs and GET /groups/{id}/presence give that watcher.
import type { Group, GroupPresence } from '../../schemas/generated/records.ts';
import { parsePidf } from '../../presence-document/parse.ts';

/** One member as a watcher sees it (streams/group-presence/policy/visibility.ts: VisibleMember). */
export interface SeenMember {
  subscriber: string;
  uri: string;
  displayName: string | null;
  role: string | null;
  state: 'active' | 'pending' | 'terminated';
  reason: 'rejected' | null;
  pidf: string | null;
}

/** What the watcher `watcherUri` may see of a group presence record; null: the group's own view (members' authorization only). */
export type GroupPerspective = (
  gp: GroupPresence,
  watcherUri: string | null,
) => { allowed: true; members: SeenMember[]; member?: { uri: string; role: string | null } } | { allowed: false; reason: string };

export interface GroupSummary {
  groupId: string;
  uri: string;
  name: string;
  adminPolicy: string;
  memberCount: number;
  availableCount: number | null;
  /** The group service's version of the group (null: only group presence knows it). */
  infoVersion: number | null;
  /** The group presence document's version (null: group presence has not written it yet). */
  presenceVersion: number | null;
  updatedAt: number;
}

/** Who the page looks as: nobody in particular (the group's view), a watcher URI, or the first member holding a role. */
export type Viewer = { kind: 'group' } | { kind: 'watcher'; uri: string } | { kind: 'role'; role: string };

export interface MemberRow extends SeenMember {
  /** The member's own policy toward the group (Group.share / sharedParts) and its receiving attributes. */
  share: boolean | null;
  sharedParts: string[];
  attributes: Record<string, string>;
  /** Read from the visible PIDF: what a person wants to know first. */
  summary: { basic: string | null; activities: string[]; notes: string[] } | null;
}

export interface GroupAnswer extends GroupSummary {
  attributes: Record<string, string>;
  roles: string[];
  viewer: { kind: Viewer['kind']; uri: string | null; role: string | null; member: boolean };
  allowed: boolean;
  reason: string | null;
  /** In member-list order: the members the viewer receives (all members, with their policy, when presence is not known). */
  members: MemberRow[];
  /** Members the viewer's receiving policy leaves out. */
  hidden: number;
  /** Group presence has not written this group yet (its process is not running, or the group is new). */
  presenceKnown: boolean;
}

export class NoSuchRole extends Error {}

/** Groups by id; each kept as its newest record of each topic. */
export class PresenceGroups {
  private readonly info = new Map<string, Group>();
  private readonly docs = new Map<string, GroupPresence>();

  /** A `groups` record (null: tombstone). Older versions than the one held are ignored, as group presence does. */
  applyGroup(id: string, g: Group | null): boolean {
    if (g === null) return this.info.delete(id);
    const held = this.info.get(id);
    if (held && held.version > g.version) return false;
    this.info.set(id, g);
    return true;
  }

  /** A `group-presence` record (null: tombstone). */
  applyPresence(id: string, gp: GroupPresence | null): boolean {
    if (gp === null) return this.docs.delete(id);
    const held = this.docs.get(id);
    if (held && held.version > gp.version) return false;
    this.docs.set(id, gp);
    return true;
  }

  list(): GroupSummary[] {
    const ids = new Set([...this.info.keys(), ...this.docs.keys()]);
    return [...ids].sort().map((id) => this.summary(id)!);
  }

  private summary(id: string): GroupSummary | undefined {
    const g = this.info.get(id);
    const gp = this.docs.get(id);
    if (!g && !gp) return undefined;
    return {
      groupId: id,
      uri: g?.uri ?? gp!.uri,
      name: g?.name ?? gp!.name,
      adminPolicy: g?.adminPolicy ?? gp!.adminPolicy,
      memberCount: g?.members.length ?? gp!.memberCount,
      availableCount: gp?.availableCount ?? null,
      infoVersion: g?.version ?? null,
      presenceVersion: gp?.version ?? null,
      updatedAt: Math.max(g?.updatedAt ?? 0, gp?.updatedAt ?? 0),
    };
  }

  /** The group as `viewer` sees it; undefined for an unknown group; NoSuchRole when no member holds the role. */
  view(id: string, viewer: Viewer, perspective: GroupPerspective | undefined): GroupAnswer | undefined {
    const summary = this.summary(id);
    if (!summary) return undefined;
    const g = this.info.get(id);
    // Without a group presence record yet, the group service's member list stands in (no presence: pending).
    const gp = this.docs.get(id) ?? fromGroup(g!);
    const roles = [...new Set(gp.members.map((m) => m.role).filter((r): r is string => r !== null))].sort();
    let watcher: string | null = null;
    if (viewer.kind === 'watcher') watcher = viewer.uri;
    if (viewer.kind === 'role') {
      const holder = gp.members.find((m) => m.role === viewer.role);
      if (!holder) throw new NoSuchRole(`no member of group ${id} has the role ${viewer.role} (roles: ${roles.join(', ') || 'none'})`);
      watcher = holder.uri;
    }
    const policyOf = new Map(gp.members.map((m) => [m.subscriber, m]));
    const row = (v: SeenMember): MemberRow => {
      const m = policyOf.get(v.subscriber);
      return { ...v, share: m?.share ?? null, sharedParts: m?.sharedParts ?? [], attributes: m?.attributes ?? {}, summary: summarize(v.pidf) };
    };
    const seen = perspective ? perspective(gp, watcher) : { allowed: true as const, members: gp.members.map(unfiltered) };
    const members = seen.allowed ? seen.members.map(row) : [];
    // The perspective finds the watcher among the members by subscriber key (tel: and sip:…;user=phone alike); without one, by URI.
    const found = watcher === null ? undefined : ((seen.allowed ? seen.member : undefined) ?? gp.members.find((m) => m.uri === watcher));
    return {
      ...summary,
      attributes: g?.attributes ?? {},
      roles,
      viewer: {
        kind: viewer.kind,
        uri: watcher,
        role: viewer.kind === 'role' ? viewer.role : (found?.role ?? null),
        member: watcher !== null && found !== undefined,
      },
      allowed: seen.allowed,
      reason: seen.allowed ? null : seen.reason,
      members,
      hidden: seen.allowed ? gp.members.length - members.length : gp.members.length,
      presenceKnown: this.docs.has(id),
    };
  }
}

/** A group presence record built from the group service's record alone: every member, no presence yet. */
function fromGroup(g: Group): GroupPresence {
  return {
    groupId: g.groupId,
    version: 0,
    memberCount: g.members.length,
    availableCount: 0,
    contentType: 'multipart/related',
    document: '',
    updatedAt: g.updatedAt,
    uri: g.uri,
    name: g.name,
    adminPolicy: g.adminPolicy,
    groupInfo: '',
    members: g.members.map((m) => ({ ...m, basic: null, pidf: null })),
  };
}

/** Without the policy functions: members as recorded, refusals honoured (a refused PIDF never reaches the record anyway). */
function unfiltered(m: GroupPresence['members'][number]): SeenMember {
  const base = { subscriber: m.subscriber, uri: m.uri, displayName: m.displayName, role: m.role };
  if (m.share === false) return { ...base, state: 'terminated', reason: 'rejected', pidf: null };
  return m.pidf === null ? { ...base, state: 'pending', reason: null, pidf: null } : { ...base, state: 'active', reason: null, pidf: m.pidf };
}

/** Basic status, activities and notes of a PIDF, for reading at a glance; null when there is none or it does not parse. */
export function summarize(pidf: string | null): MemberRow['summary'] {
  if (!pidf) return null;
  try {
    const doc = parsePidf(pidf);
    const basic = doc.services.find((s) => s.basic !== undefined)?.basic ?? null;
    const activities = [...new Set(doc.persons.flatMap((p) => p.activities).concat(doc.services.flatMap((s) => s.activities)))];
    const notes = [...doc.notes, ...doc.persons.flatMap((p) => p.notes), ...doc.services.flatMap((s) => s.notes), ...doc.devices.flatMap((d) => d.notes)].map(
      (n) => n.text,
    );
    return { basic, activities, notes };
  } catch {
    return null;
  }
}
