// Group watchers' dialogs (RFC 6665 notifier + RFC 4662 list semantics): a
// full-state NOTIFY on every accepted SUBSCRIBE, then partial NOTIFYs carrying
// only what changed for that watcher — separate ones for basic group
// information (Actions 807-810) and member presence (Actions 801-806).
// CSeq/version bookkeeping is the event manager's (watcherDialog.notify), so
// a group dialog's versions are contiguous the same way.
import type { DeliveryReport, GroupPresenceState, NotifyRequest, StateGroupWatcher, Subscription } from '../../schemas/generated/records.ts';
import { refreshedRouteSet } from '../../protocols/sip/transport/index.ts';
import { deliveryEndsSubscription, notifyIdParts, watcherDialogKey, notify, type TerminationReason } from '../event-manager/subscriptions/watcherDialog.ts';
import { findMember, mayWatch } from './policy/authorization.ts';
import { receivingFromAttributes, receivingFromFilter, ReceivingPolicyError, type ReceivingPolicy } from './policy/receiving.ts';
import { receives, roleOf, visibleMembers, type VisibleMember } from './policy/visibility.ts';
import { DIALOG_EVENT, fingerprint, sharedFor, type GroupView } from './groupView.ts';
import { DIALOG_INFO } from '../../presence-document/dialogInfo.ts';
import { forgetMemberDialogs, memberDialogInfo } from './rlmi/memberDialogs.ts';
import { groupPresentity } from './groupState.ts';
import { renderGroupDocument } from './rlmi/groupDocument.ts';

type NotifyKind = 'full' | 'info' | 'presence';

/** The watcher's receiving policy: its SUBSCRIBE filter, else its member attributes (group API). */
function receivingPolicyOf(st: GroupPresenceState, d: Pick<StateGroupWatcher, 'filter' | 'watcherUri'>): ReceivingPolicy {
  if (d.filter) {
    try {
      return receivingFromFilter(d.filter);
    } catch (e) {
      // A stored filter accepted by an older release but refused now must not fail every batch
      // of the group: the watcher gets the basic group information only (narrows, never widens).
      if (e instanceof ReceivingPolicyError) return { refuse: true, roles: null, members: null, parts: null };
      throw e;
    }
  }
  return receivingFromAttributes(findMember(st.members, d.watcherUri)?.attributes);
}

/**
 * The receiving policy as it applies to this watcher's package: parts (basic, note, …) narrow
 * a PIDF; a dialog watcher's parts are the member's calls, which the member's own sharing governs.
 */
function policyFor(st: GroupPresenceState, d: StateGroupWatcher): ReceivingPolicy {
  const policy = receivingPolicyOf(st, d);
  return d.event === DIALOG_EVENT ? { ...policy, parts: null } : policy;
}

/**
 * The listed members' parts: their PIDF, or for a dialog watcher each member's dialog-info with
 * its own version (RFC 4235) — rendered now, since making one advances that member's version.
 */
function memberParts(
  d: StateGroupWatcher,
  listed: VisibleMember[],
  removed: ReadonlyArray<{ uri: string }>,
  fullList: boolean,
): { members: VisibleMember[]; partType?: string } {
  if (d.event !== DIALOG_EVENT) return { members: listed };
  if (fullList) d.dialogsTold = {}; // full state anew: whoever is not listed now starts from full state again
  for (const r of removed) forgetMemberDialogs(d, r.uri);
  const members = listed.map((v) => {
    if (v.state === 'active' && v.pidf !== null) return { ...v, pidf: memberDialogInfo(d, v.uri, v.pidf, fullList) };
    forgetMemberDialogs(d, v.uri);
    return v;
  });
  return { members, partType: DIALOG_INFO };
}

/**
 * A presence notification when only some members' presence changed: only
 * those members are examined (a 10,000-member group is not re-diffed for one
 * change). The policies are evaluated as in visibleMembers.
 */
function changedBody(
  st: GroupPresenceState,
  view: GroupView,
  d: StateGroupWatcher,
  changed: ReadonlySet<string>,
  version: number,
): { contentType: string; body: string } | null {
  const policy = policyFor(st, d);
  const shared = sharedFor(st, view, d.event);
  const role = roleOf(view.members, d.watcherUri);
  const listed: VisibleMember[] = [];
  const removed: Array<{ uri: string; reason: 'deactivated' }> = [];
  for (const sub of changed) {
    const i = view.position.get(sub);
    if (i === undefined) continue;
    const m = view.members[i]!;
    if (!receives(policy, m, role)) {
      if (d.seen[m.uri] !== undefined) {
        delete d.seen[m.uri];
        removed.push({ uri: m.uri, reason: 'deactivated' });
      }
      continue;
    }
    const v = visibleMembers([m], [shared[i]!], d.watcherUri, { ...policy, members: null, roles: null })[0]!;
    const fp = fingerprint(v);
    if (d.seen[m.uri] === fp) continue;
    d.seen[m.uri] = fp;
    listed.push(v);
  }
  if (listed.length === 0 && removed.length === 0) return null;
  return renderGroupDocument({
    groupId: st.groupId,
    groupUri: st.uri || d.presentityUri,
    groupName: st.name,
    version,
    fullState: false,
    groupInfo: null,
    ...memberParts(d, listed, removed, false),
    removed,
  });
}

function bodyFor(
  st: GroupPresenceState,
  view: GroupView,
  d: StateGroupWatcher,
  kind: NotifyKind,
  version: number,
  changed?: ReadonlySet<string>,
): { contentType: string; body: string } | null {
  if (kind === 'presence' && changed) return changedBody(st, view, d, changed, version);
  const visible = visibleMembers(view.members, sharedFor(st, view, d.event), d.watcherUri, policyFor(st, d));
  const now = new Map<string, { v: VisibleMember; fp: string }>();
  for (const v of visible) now.set(v.uri, { v, fp: fingerprint(v) });
  let listed: VisibleMember[];
  const removed: Array<{ uri: string; reason: 'noresource' | 'deactivated' }> = [];
  if (kind === 'full') {
    listed = visible;
  } else {
    listed = [];
    for (const [uri, x] of now) {
      if (d.seen[uri] === x.fp) continue;
      // An information notification leaves out members whose presence also changed: their
      // own presence notification follows (separate notifications, Actions 807-810 / 801-806).
      if (kind === 'info' && changed?.has(x.v.subscriber)) {
        if (d.seen[uri] === undefined) now.delete(uri);
        else x.fp = d.seen[uri]!;
        continue;
      }
      listed.push(x.v);
    }
    const stillMember = new Set(st.members.map((m) => m.uri));
    for (const uri of Object.keys(d.seen)) if (!now.has(uri)) removed.push({ uri, reason: stillMember.has(uri) ? 'deactivated' : 'noresource' });
    // A presence notification with nothing this watcher may see changed is not sent.
    if (kind === 'presence' && listed.length === 0 && removed.length === 0) return null;
  }
  d.seen = Object.fromEntries([...now].map(([uri, x]) => [uri, x.fp]));
  return renderGroupDocument({
    groupId: st.groupId,
    groupUri: st.uri || d.presentityUri,
    groupName: st.name,
    version,
    fullState: kind === 'full',
    groupInfo: kind === 'presence' ? null : view.info,
    ...memberParts(d, listed, removed, kind === 'full'),
    removed,
  });
}

/** The dialog's next NOTIFY with a group body (null: nothing to tell this watcher). */
function groupNotify(
  st: GroupPresenceState,
  view: GroupView,
  d: StateGroupWatcher,
  kind: NotifyKind,
  nowMs: number,
  cause: string | null,
  state: 'active' | 'terminated' = 'active',
  changed?: ReadonlySet<string>,
): NotifyRequest | null {
  const body = bodyFor(st, view, d, kind, d.version + 1, changed);
  if (body === null) return null;
  const n = notify(d, groupPresentity(st.groupId), state, body, nowMs, cause, state === 'terminated' ? 'timeout' : null);
  return n;
}

function terminatedOnce(st: GroupPresenceState, sub: Subscription, localTag: string, reason: TerminationReason, nowMs: number): NotifyRequest {
  const d = {
    callId: sub.callId,
    remoteTag: sub.watcherTag,
    localTag,
    watcherUri: sub.watcherUri,
    presentityUri: sub.presentityUri,
    contact: sub.contact,
    routeSet: sub.routeSet,
    expiresAt: nowMs,
    notifyCseq: 0,
    version: 0,
    // The NOTIFY's Event must be the one subscribed (RFC 6665 §8.2.1), also when it ends the dialog at once.
    event: sub.event === DIALOG_EVENT ? DIALOG_EVENT : 'presence',
    contactVerified: sub.contactVerified,
  };
  return notify(d, groupPresentity(st.groupId), 'terminated', null, nowMs, sub.requestId, reason);
}

interface GroupSubscribeOutcome {
  notifies: NotifyRequest[];
  /** Why a SUBSCRIBE was turned down (for stats and logs). */
  refused?: 'not-a-member' | 'no-such-group' | 'bad-filter';
  detail?: string;
}

/**
 * Applies a SUBSCRIBE to a group: the administrator's policy decides whether
 * the watcher may subscribe at all (terminated;reason=rejected otherwise — the
 * stateless front end already answered 200), an unknown group ends it with
 * noresource, an unusable filter with rejected. Accepted: full-state NOTIFY.
 */
export function applyGroupSubscribe(st: GroupPresenceState, view: GroupView, sub: Subscription, nowMs: number, localTag: string): GroupSubscribeOutcome {
  const key = watcherDialogKey(sub.callId, sub.watcherTag);
  const idx = st.watchers.findIndex((w) => watcherDialogKey(w.callId, w.remoteTag) === key);
  const existing = idx >= 0 ? st.watchers[idx]! : undefined;
  if (existing && sub.cseq <= existing.subscribeCseq) return { notifies: [] };
  const end = (reason: TerminationReason, refused: GroupSubscribeOutcome['refused'], detail?: string): GroupSubscribeOutcome => {
    if (existing) {
      st.watchers.splice(idx, 1);
      return { notifies: [notify(existing, groupPresentity(st.groupId), 'terminated', null, nowMs, sub.requestId, reason)], refused, detail };
    }
    return { notifies: [terminatedOnce(st, sub, localTag, reason, nowMs)], refused, detail };
  };
  if (!st.exists) return end('noresource', 'no-such-group');
  if (!mayWatch(st.adminPolicy, st.members, sub.watcherUri).allowed) return end('rejected', 'not-a-member');
  const filter = sub.body && sub.body.length > 0 ? sub.body.toString('utf8') : null;
  if (filter !== null) {
    try {
      receivingFromFilter(filter);
    } catch (e) {
      if (e instanceof ReceivingPolicyError) return end('rejected', 'bad-filter', e.message);
      throw e;
    }
  }
  if (sub.expires === 0) {
    // Unsubscribe (or fetch, RFC 6665 §4.4.3): a final NOTIFY with the full state.
    const d: StateGroupWatcher = existing ?? { ...newDialog(sub, localTag, nowMs, filter) };
    if (existing) st.watchers.splice(idx, 1);
    d.contactVerified = sub.contactVerified;
    d.filter = filter ?? d.filter;
    return { notifies: [groupNotify(st, view, d, 'full', nowMs, sub.requestId, 'terminated')!] };
  }
  const d = existing ?? newDialog(sub, localTag, nowMs, filter);
  // A refresh revives a dialog ended by a delivery failure, at its next CSeq.
  d.ended = false;
  d.subscribeCseq = sub.cseq;
  d.contact = sub.contact || d.contact;
  d.contactVerified = sub.contactVerified;
  d.routeSet = refreshedRouteSet(d.routeSet, sub.routeSet); // the watcher's current flow, after a NAT rebinding
  d.expiresAt = nowMs + sub.expires * 1000;
  // A refresh may carry a new filter (RFC 4660 §3); without a body the previous one stays.
  if (filter !== null) d.filter = filter;
  if (!existing) st.watchers.push(d);
  // Every accepted SUBSCRIBE, refresh included, gets the full state (RFC 4662 §5.2: fullState on refresh).
  return { notifies: [groupNotify(st, view, d, 'full', nowMs, sub.requestId)!] };
}

function newDialog(sub: Subscription, localTag: string, nowMs: number, filter: string | null): StateGroupWatcher {
  return {
    callId: sub.callId,
    remoteTag: sub.watcherTag,
    localTag,
    watcherUri: sub.watcherUri,
    presentityUri: sub.presentityUri,
    contact: sub.contact,
    routeSet: sub.routeSet,
    expiresAt: nowMs + sub.expires * 1000,
    notifyCseq: 0,
    version: 0,
    subscribeCseq: sub.cseq,
    filter,
    seen: {},
    event: sub.event === DIALOG_EVENT ? DIALOG_EVENT : 'presence',
    dialogVersions: {},
    dialogsTold: {},
    ended: false,
    contactVerified: sub.contactVerified,
  };
}

/**
 * After the group changed: one NOTIFY per watcher and kind. Watchers the
 * administrator's policy no longer admits (an outsider after a members-only
 * change, a member who left) are ended with terminated;reason=rejected.
 */
export function notifyGroupChange(
  st: GroupPresenceState,
  view: GroupView,
  kind: 'info' | 'presence',
  nowMs: number,
  cause: string | null,
  changed?: ReadonlySet<string>,
): NotifyRequest[] {
  const out: NotifyRequest[] = [];
  for (let i = st.watchers.length - 1; i >= 0; i--) {
    const d = st.watchers[i]!;
    if (d.ended) {
      if (d.expiresAt <= nowMs) st.watchers.splice(i, 1);
      continue;
    }
    // Expired before the timer ran (punctuation interval, a handover): no more active NOTIFYs (RFC 6665 §4.2.2).
    if (d.expiresAt <= nowMs) {
      st.watchers.splice(i, 1);
      out.push(notify(d, groupPresentity(st.groupId), 'terminated', null, nowMs, cause, 'timeout'));
      continue;
    }
    if (!st.exists || !mayWatch(st.adminPolicy, st.members, d.watcherUri).allowed) {
      st.watchers.splice(i, 1);
      out.push(notify(d, groupPresentity(st.groupId), 'terminated', null, nowMs, cause, st.exists ? 'rejected' : 'noresource'));
    }
  }
  for (const d of st.watchers) {
    if (d.ended) continue;
    const n = groupNotify(st, view, d, kind, nowMs, cause, 'active', changed);
    if (n) out.push(n);
  }
  return out;
}

/** Dialogs past their expiry end with terminated;reason=timeout. */
export function expireGroupDialogs(st: GroupPresenceState, nowMs: number): NotifyRequest[] {
  const out: NotifyRequest[] = [];
  st.watchers = st.watchers.filter((d) => {
    if (d.expiresAt > nowMs) return true;
    if (!d.ended) out.push(notify(d, groupPresentity(st.groupId), 'terminated', null, nowMs, null, 'timeout'));
    return false;
  });
  return out;
}

/**
 * The NOTIFY failed for good (gone, gave up, refused): the dialog ends, no
 * NOTIFY. As for presence dialogs (watcherDialog.applyDeliveryReport), only
 * the failure of the dialog's latest NOTIFY counts: a re-sent older CSeq's
 * failure is stale, a repeated report changes nothing, and a fork on the same
 * Call-ID (another watcher tag) is another dialog. The ended dialog is kept
 * until its expiry for its CSeq (StateGroupWatcher.ended). A report whose
 * notifyId names no CSeq forgets the Call-ID's dialogs.
 */
export function applyGroupDeliveryReport(st: GroupPresenceState, r: DeliveryReport): boolean {
  if (!deliveryEndsSubscription(r.outcome)) return false;
  const id = notifyIdParts(r.notifyId);
  if (id === undefined || id.callId !== r.callId) {
    const before = st.watchers.length;
    st.watchers = st.watchers.filter((d) => d.callId !== r.callId);
    return st.watchers.length !== before;
  }
  const d = st.watchers.find((w) => w.callId === id.callId && w.remoteTag === id.remoteTag);
  if (!d || d.ended || id.cseq < d.notifyCseq) return false;
  d.ended = true;
  return true;
}
