// The notifier side of a presence subscription (RFC 6665, RFC 3856), held by
// the event manager that owns the presentity — so the NOTIFYs of one dialog
// come from one place, in order, with CSeqs that only increase and versions
// that are contiguous, whichever front end received the SUBSCRIBE.
import type { NotifyRequest, StateWatcher, Subscription } from '../../../schemas/generated/records.ts';

type SubscriptionStateName = 'active' | 'pending' | 'terminated';

/** RFC 6665 §8.2.3 reasons we use. */
export type TerminationReason = 'timeout' | 'rejected' | 'deactivated' | 'noresource' | 'giveup';

/** What the presentity's authorization rules say about a watcher. */
export type WatcherDecision = 'allow' | 'block' | 'polite-block' | 'confirm';

/**
 * One dialog: the changelog's StateWatcher record (schemas/avro/PresenceState.avsc)
 * with its two enumerations narrowed.
 */
export type WatcherDialog = Omit<StateWatcher, 'state' | 'decision'> & {
  state: 'active' | 'pending';
  decision: WatcherDecision;
};

/**
 * A NOTIFY's body: the presence document already rendered (PIDF text, or the
 * polite-block stand-in) with its Content-Type. The PIDF model itself is
 * presence-document/model.ts PresenceDocument.
 */
export interface NotifyBody {
  contentType: string;
  body: string;
}

/**
 * A watcher's dialog among the presentity's: Call-ID + the watcher's tag. Our
 * own tag is left out because an initial SUBSCRIBE does not carry it yet (the
 * NOTIFY sink orders by the full dialog ID, notifyMessage.ts dialogIdKey).
 */
export const watcherDialogKey = (callId: string, watcherTag: string) => `${callId}\u0000${watcherTag}`;

/** What a notifier needs of a dialog to build its next NOTIFY (group dialogs share it: streams/group-presence). */
type NotifierDialog = Pick<
  WatcherDialog,
  'callId' | 'remoteTag' | 'localTag' | 'watcherUri' | 'presentityUri' | 'contact' | 'routeSet' | 'expiresAt' | 'notifyCseq' | 'version'
>;

/** The dialog's next NOTIFY: CSeq and version each advance by one. */
export function notify(
  d: NotifierDialog,
  presentity: string,
  state: SubscriptionStateName,
  doc: NotifyBody | null,
  nowMs: number,
  cause: string | null,
  reason: TerminationReason | null = null,
): NotifyRequest {
  d.notifyCseq += 1;
  d.version += 1;
  return {
    notifyId: `${d.callId}/${d.remoteTag}/${d.notifyCseq}`,
    presentity,
    event: 'presence',
    callId: d.callId,
    localTag: d.localTag,
    remoteTag: d.remoteTag,
    cseq: d.notifyCseq,
    requestUri: d.contact,
    fromUri: d.presentityUri,
    toUri: d.watcherUri,
    routeSet: d.routeSet,
    subscriptionState: state,
    expires: state === 'terminated' ? null : Math.max(0, Math.round((d.expiresAt - nowMs) / 1000)),
    reason,
    version: d.version,
    contentType: doc?.contentType ?? null,
    body: doc?.body ?? null,
    causeEventId: cause,
    createdAt: nowMs,
  };
}

/** What a watcher may see: a polite block shows a closed, empty presence (RFC 5025 polite-block). */
function documentFor(d: WatcherDialog, current: NotifyBody, politeBlocked: NotifyBody): NotifyBody | null {
  if (d.state === 'pending') return null;
  return d.decision === 'polite-block' ? politeBlocked : current;
}

interface SubscribeOutcome {
  dialogs: Map<string, WatcherDialog>;
  notifies: NotifyRequest[];
}

/**
 * Applies a SUBSCRIBE (initial, refresh, or Expires: 0) to the presentity's
 * dialogs. Every applied SUBSCRIBE gets an immediate NOTIFY (RFC 6665
 * §4.2.1.2), also when the subscription is pending; a repeated or older
 * SUBSCRIBE (same or lower CSeq) is ignored.
 */
export function applySubscribe(
  dialogs: Map<string, WatcherDialog>,
  sub: Subscription,
  decision: WatcherDecision,
  current: NotifyBody,
  politeBlocked: NotifyBody,
  nowMs: number,
  localTag: string,
): SubscribeOutcome {
  const key = watcherDialogKey(sub.callId, sub.watcherTag);
  let d = dialogs.get(key);
  const notifies: NotifyRequest[] = [];
  if (d && sub.cseq <= d.subscribeCseq) return { dialogs, notifies };
  if (!d) {
    if (sub.expires === 0) {
      // A fetch (RFC 6665 §4.4.3) or an unsubscribe for a dialog we no longer hold: one terminated NOTIFY.
      const once: WatcherDialog = {
        callId: sub.callId,
        remoteTag: sub.watcherTag,
        localTag,
        watcherUri: sub.watcherUri,
        presentityUri: sub.presentityUri,
        contact: sub.contact,
        routeSet: sub.routeSet,
        state: 'active',
        decision,
        expiresAt: nowMs,
        notifyCseq: 0,
        version: 0,
        subscribeCseq: sub.cseq,
      };
      const doc = decision === 'block' || decision === 'confirm' ? null : documentFor(once, current, politeBlocked);
      notifies.push(notify(once, sub.presentity, 'terminated', doc, nowMs, sub.requestId, decision === 'block' ? 'rejected' : 'timeout'));
      return { dialogs, notifies };
    }
    d = {
      callId: sub.callId,
      remoteTag: sub.watcherTag,
      localTag,
      watcherUri: sub.watcherUri,
      presentityUri: sub.presentityUri,
      contact: sub.contact,
      routeSet: sub.routeSet,
      state: decision === 'confirm' ? 'pending' : 'active',
      decision,
      expiresAt: nowMs + sub.expires * 1000,
      notifyCseq: 0,
      version: 0,
      subscribeCseq: sub.cseq,
    };
    if (decision === 'block') {
      notifies.push(notify(d, sub.presentity, 'terminated', null, nowMs, sub.requestId, 'rejected'));
      return { dialogs, notifies };
    }
    dialogs.set(key, d);
  } else {
    d.subscribeCseq = sub.cseq;
    d.contact = sub.contact || d.contact;
    if (sub.expires === 0) {
      dialogs.delete(key);
      notifies.push(notify(d, sub.presentity, 'terminated', documentFor(d, current, politeBlocked), nowMs, sub.requestId, 'timeout'));
      return { dialogs, notifies };
    }
    d.expiresAt = nowMs + sub.expires * 1000;
  }
  notifies.push(notify(d, sub.presentity, d.state, documentFor(d, current, politeBlocked), nowMs, sub.requestId));
  return { dialogs, notifies };
}

/** A NOTIFY to every active dialog when the presentity's document changed. */
export function notifyChange(
  dialogs: Map<string, WatcherDialog>,
  presentity: string,
  current: NotifyBody,
  politeBlocked: NotifyBody,
  nowMs: number,
  cause: string | null,
): NotifyRequest[] {
  const out: NotifyRequest[] = [];
  for (const d of dialogs.values()) if (d.state === 'active') out.push(notify(d, presentity, 'active', documentFor(d, current, politeBlocked), nowMs, cause));
  return out;
}

/** Subscriptions past their expiry end with a terminated;reason=timeout NOTIFY. */
export function expireDialogs(dialogs: Map<string, WatcherDialog>, presentity: string, nowMs: number): NotifyRequest[] {
  const out: NotifyRequest[] = [];
  for (const [k, d] of dialogs) {
    if (d.expiresAt > nowMs) continue;
    dialogs.delete(k);
    out.push(notify(d, presentity, 'terminated', null, nowMs, null, 'timeout'));
  }
  return out;
}

/**
 * Ends dialogs on the presentity's side: handoff in resubscribe mode
 * (reason=deactivated: the watcher re-subscribes and reaches the new owner,
 * Tekelec Fig 13), or the presentity no longer exists (noresource).
 */
export function terminateAll(dialogs: Map<string, WatcherDialog>, presentity: string, reason: TerminationReason, nowMs: number): NotifyRequest[] {
  const out: NotifyRequest[] = [];
  for (const d of dialogs.values()) out.push(notify(d, presentity, 'terminated', null, nowMs, null, reason));
  dialogs.clear();
  return out;
}

/**
 * Whether a NOTIFY's delivery outcome ends its subscription. RFC 6665 §4.2.2:
 * a NOTIFY that times out, or gets a non-2xx answer without Retry-After,
 * removes the subscription — so 481/404 (gone), timeouts and retries
 * exhausted (gave-up) and other final refusals (rejected) all do.
 */
export function deliveryEndsSubscription(outcome: string): boolean {
  return outcome === 'gone' || outcome === 'gave-up' || outcome === 'rejected';
}

/** The watcher is gone (481/404/timeout on delivery): forget the dialog, no NOTIFY. */
export function forgetDialog(dialogs: Map<string, WatcherDialog>, callId: string, remoteTag?: string): boolean {
  let removed = false;
  for (const [k, d] of dialogs) {
    if (d.callId === callId && (remoteTag === undefined || d.remoteTag === remoteTag)) {
      dialogs.delete(k);
      removed = true;
    }
  }
  return removed;
}

/** Earliest expiry among the dialogs (for the timer index). */
export function nextExpiry(dialogs: Map<string, WatcherDialog>): number | undefined {
  let min: number | undefined;
  for (const d of dialogs.values()) if (min === undefined || d.expiresAt < min) min = d.expiresAt;
  return min;
}
