// The watcher-info notifier (RFC 3857 presence.winfo, RFC 3858 documents):
// the presentity's own winfo dialogs live among its presence dialogs, held by
// the same event manager, so the watchers it reports are exactly the dialogs
// it holds. A change is found by comparing the presence dialogs before and
// after a record (or timer) was applied: whatever ended, appeared, or moved
// from pending to active is sent as a partial document; a (re)SUBSCRIBE gets
// the full one. Versions are the dialog's own NOTIFY count from 0 (RFC 3858 §3).
import type { NotifyRequest } from '../../../schemas/generated/records.ts';
import { renderWatcherInfo, WATCHERINFO, type WatcherEntry, type WatcherEvent } from '../../../presence-document/watcherInfo.ts';
import { notify, type DialogBody, type TerminationReason, type WatcherDialog } from './watcherDialog.ts';

/** The watcher-info template package applied to presence. */
export const WINFO_EVENT = 'presence.winfo';
/** The package whose watchers a presence.winfo subscription reports. */
const WATCHED_PACKAGE = 'presence';

/** What a winfo subscriber is told of one presence dialog (absent: no longer a watcher). */
interface WatcherFact {
  readonly uri: string;
  readonly status: 'pending' | 'active';
  readonly expiresAt: number;
}

export type WatcherSnapshot = ReadonlyMap<string, WatcherFact>;

/** The watcher's id in every document: stable per dialog, not the raw Call-ID (the presentity needs no dialog identifiers). */
export const watcherEntryId = (dialogKey: string) => `w${Buffer.from(dialogKey).toString('base64url')}`;

/** The presence dialogs a winfo subscriber sees (an 'ended' dialog is kept only for its CSeq: no longer a watcher). */
export function watcherSnapshot(dialogs: ReadonlyMap<string, WatcherDialog>): Map<string, WatcherFact> {
  const out = new Map<string, WatcherFact>();
  for (const [k, d] of dialogs)
    if ((d.event ?? 'presence') === WATCHED_PACKAGE && d.state !== 'ended') out.set(k, { uri: d.watcherUri, status: d.state, expiresAt: d.expiresAt });
  return out;
}

const entry = (key: string, f: WatcherFact, event: WatcherEvent, nowMs: number): WatcherEntry => ({
  id: watcherEntryId(key),
  uri: f.uri,
  status: f.status,
  event,
  expiration: Math.max(0, (f.expiresAt - nowMs) / 1000),
});

/** RFC 3858's event for a subscription that ended with this Subscription-State reason (none: it stopped answering). */
const endEvent = (reason: TerminationReason | null | undefined): WatcherEvent => (reason ? reason : 'giveup');

/**
 * What changed between two snapshots, as watcher entries: new dialogs
 * (event subscribe), pending → active (approved), and ended ones (terminated,
 * with the reason of their terminated NOTIFY among `sent`, else giveup).
 */
export function watcherChanges(before: WatcherSnapshot, after: WatcherSnapshot, sent: readonly NotifyRequest[], nowMs: number): WatcherEntry[] {
  const out: WatcherEntry[] = [];
  for (const [k, f] of after) {
    const was = before.get(k);
    if (!was) out.push(entry(k, f, 'subscribe', nowMs));
    else if (was.status === 'pending' && f.status === 'active') out.push(entry(k, f, 'approved', nowMs));
  }
  for (const [k, f] of before) {
    if (after.has(k)) continue;
    const ended = sent.find((n) => n.event === WATCHED_PACKAGE && n.subscriptionState === 'terminated' && `${n.callId}\u0000${n.remoteTag}` === k);
    out.push({ ...entry(k, f, endEvent(ended?.reason as TerminationReason | null | undefined), nowMs), status: 'terminated', expiration: 0 });
  }
  return out;
}

/** A winfo NOTIFY's body at the dialog's version: the whole list (full) or only `changes` (partial). */
export function watcherInfoDocument(dialogs: ReadonlyMap<string, WatcherDialog>, nowMs: number, changes?: readonly WatcherEntry[]): DialogBody {
  return (d) => {
    const watchers = changes ?? [...watcherSnapshot(dialogs)].map(([k, f]) => entry(k, f, f.status === 'active' ? 'approved' : 'subscribe', nowMs));
    return {
      contentType: WATCHERINFO,
      body: renderWatcherInfo({
        version: d.version - 1,
        state: changes ? 'partial' : 'full',
        lists: [{ resource: d.presentityUri, package: WATCHED_PACKAGE, watchers }],
      }),
    };
  };
}

/** A partial NOTIFY to each of the presentity's active winfo dialogs, when its watchers changed. */
export function notifyWatcherInfo(
  dialogs: Map<string, WatcherDialog>,
  presentity: string,
  before: WatcherSnapshot,
  sent: readonly NotifyRequest[],
  nowMs: number,
  cause: string | null,
): NotifyRequest[] {
  const winfo = [...dialogs.values()].filter((d) => d.event === WINFO_EVENT && d.state === 'active');
  if (winfo.length === 0) return [];
  const changes = watcherChanges(before, watcherSnapshot(dialogs), sent, nowMs);
  if (changes.length === 0) return [];
  const doc = watcherInfoDocument(dialogs, nowMs, changes);
  return winfo.map((d) => notify(d, presentity, 'active', doc, nowMs, cause));
}
