// A group presence body (RFC 4662 list NOTIFY): multipart/related with the
// RLMI document first, then — when it is part of this notification — the
// basic group information, then one PIDF part per listed member whose
// presence the watcher may see.
import { createHash } from 'node:crypto';
import type { VisibleMember } from '../policy/visibility.ts';
import { renderMultipartRelated, type BodyPart, type MultipartBody } from './multipartRelated.ts';
import { RLMI_TYPE, renderRlmi, type RlmiResourceOut } from './rlmiDocument.ts';
import { GROUP_INFO_TYPE } from './groupInfo.ts';

const PIDF_TYPE = 'application/pidf+xml';

interface GroupDocumentInput {
  groupId: string;
  groupUri: string;
  groupName: string;
  version: number;
  fullState: boolean;
  /** The basic group information part, or null when this notification does not carry it. */
  groupInfo: string | null;
  /** Members listed with their current instance. */
  members: readonly VisibleMember[];
  /** Members no longer in the watcher's list (left the group, or filtered out now): terminated instances. */
  removed: ReadonlyArray<{ uri: string; reason: 'noresource' | 'deactivated' }>;
  /** The type of the members' parts (`pidf` holds that document): PIDF, or dialog-info for Event: dialog lists. */
  partType?: string;
}

// Ids derive from member URIs, which repeat in every notification: memoized (bounded).
const shortIds = new Map<string, string>();
const short = (s: string) => {
  let id = shortIds.get(s);
  if (id === undefined) {
    if (shortIds.size >= 200_000) shortIds.clear();
    shortIds.set(s, (id = createHash('sha1').update(s).digest('hex').slice(0, 12)));
  }
  return id;
};

/** Content-ID of a member's PIDF part, stable across notifications of a group. */
function memberContentId(groupId: string, memberUri: string): string {
  return `${short(memberUri)}@${groupId.replace(/[^A-Za-z0-9.-]/g, '-')}.group`;
}

export function renderGroupDocument(d: GroupDocumentInput): MultipartBody {
  const pidfParts: BodyPart[] = [];
  const resources: RlmiResourceOut[] = [];
  for (const m of d.members) {
    const id = short(m.uri);
    if (m.state === 'active' && m.pidf !== null) {
      const cid = memberContentId(d.groupId, m.uri);
      pidfParts.push({ contentId: cid, contentType: d.partType ?? PIDF_TYPE, body: m.pidf });
      resources.push({ uri: m.uri, name: m.displayName, instance: { id, state: 'active', cid } });
    } else {
      resources.push({ uri: m.uri, name: m.displayName, instance: { id, state: m.state === 'active' ? 'pending' : m.state, reason: m.reason } });
    }
  }
  for (const r of d.removed) resources.push({ uri: r.uri, instance: { id: short(r.uri), state: 'terminated', reason: r.reason } });
  const rlmi = renderRlmi({ uri: d.groupUri, version: d.version, fullState: d.fullState, name: d.groupName, resources });
  const parts: BodyPart[] = [{ contentId: `rlmi-${d.version}@${d.groupId.replace(/[^A-Za-z0-9.-]/g, '-')}.group`, contentType: RLMI_TYPE, body: rlmi }];
  if (d.groupInfo !== null)
    parts.push({ contentId: `info@${d.groupId.replace(/[^A-Za-z0-9.-]/g, '-')}.group`, contentType: GROUP_INFO_TYPE, body: d.groupInfo });
  parts.push(...pidfParts);
  return renderMultipartRelated(parts, RLMI_TYPE);
}
