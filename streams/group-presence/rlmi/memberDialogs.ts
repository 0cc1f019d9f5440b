// BLF on a resource list (RFC 4662 with Event: dialog): each member's calls as
// an application/dialog-info+xml part. The member's dialogs arrive through the
// join as JSON (Presence.dialogs, made by the event manager without
// identities); here they become one document per member and watcher, with the
// version RFC 4235 wants — contiguous per resource of the subscription — and
// partial state after the first document, as for a single dialog watcher.
import type { StateGroupMember, StateGroupWatcher } from '../../../schemas/generated/records.ts';
import { renderDialogInfo, type DialogEntry } from '../../../presence-document/dialogInfo.ts';
import { memberSharedParts, memberShares } from '../policy/authorization.ts';
import type { VisibleMember } from '../policy/visibility.ts';

/**
 * A member as a dialog list watcher sees it: `pidf` carries the dialogs JSON
 * (what fingerprints compare), not a PIDF. Its calls are the `call` part of its
 * presence: a member that shares parts without `call` is refused like one that
 * shares nothing, and one whose presence is not known yet is pending.
 */
export function dialogSharedView(m: StateGroupMember, shared: VisibleMember): VisibleMember {
  if (shared.state !== 'active' || !memberShares(m)) return shared;
  const parts = memberSharedParts(m);
  if (parts !== null && !parts.includes('call')) return { ...shared, state: 'terminated', reason: 'rejected', pidf: null };
  if (m.pidf === null) return { ...shared, state: 'pending', pidf: null };
  // Presence from a release before dialogs were carried: no call known.
  return { ...shared, pidf: m.dialogs ?? '[]' };
}

/**
 * The dialog-info part of one listed member for this watcher. Full state when
 * the list notification is full state or the watcher was told nothing of this
 * member yet, or when a dialog told as live is gone (a partial document can
 * say terminated, not gone); else only the dialogs that changed. Advances the
 * member's version and remembers what was told (on the watcher's state).
 */
export function memberDialogInfo(d: StateGroupWatcher, memberUri: string, dialogsJson: string, fullList: boolean): string {
  const dialogs = JSON.parse(dialogsJson) as DialogEntry[];
  const toldJson = fullList ? undefined : d.dialogsTold[memberUri];
  const told = toldJson === undefined ? undefined : (JSON.parse(toldJson) as Record<string, string>);
  const now = Object.fromEntries(dialogs.map((x) => [x.id, JSON.stringify(x)]));
  const gone = told !== undefined && Object.entries(told).some(([id, x]) => now[id] === undefined && (JSON.parse(x) as DialogEntry).state !== 'terminated');
  const full = told === undefined || gone;
  const version = (d.dialogVersions[memberUri] ?? 0) + 1;
  d.dialogVersions[memberUri] = version;
  d.dialogsTold[memberUri] = JSON.stringify(now);
  const listed = full ? dialogs : dialogs.filter((x) => told[x.id] !== now[x.id]);
  return renderDialogInfo({ entity: memberUri, version, state: full ? 'full' : 'partial', dialogs: listed });
}

/** A member no longer listed for the watcher: what it was told is forgotten (its next part is full state); the version goes on. */
export function forgetMemberDialogs(d: StateGroupWatcher, memberUri: string): void {
  delete d.dialogsTold[memberUri];
}
