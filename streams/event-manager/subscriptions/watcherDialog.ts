// The notifier side of a presence subscription (RFC 6665, RFC 3856), held by
// the event manager that owns the presentity — so the NOTIFYs of one dialog
// come from one place, in order, with CSeqs that only increase and versions
// that are contiguous, whichever front end received the SUBSCRIBE.
import type { NotifyRequest, StateWatcher, Subscription } from '../../../schemas/generated/records.ts';
import { refreshedRouteSet } from '../../../protocols/sip/transport/index.ts';
import { asksForLocation } from '../../../presence-document/locationInterest.ts';

type SubscriptionStateName = 'active' | 'pending' | 'terminated';

/** RFC 6665 §8.2.3 reasons we use. */
export type TerminationReason = 'timeout' | 'rejected' | 'deactivated' | 'noresource' | 'giveup';

/**
 * What the presentity's authorization rules say about a watcher. 'allow-location'
 * is 'allow' plus the position the network reports (geopriv): location is the most
 * sensitive element, so no other decision, and no default, shows it.
 */
export type WatcherDecision = 'allow' | 'allow-location' | 'allow-presence' | 'block' | 'polite-block' | 'confirm';

/** Every decision, in the order the CLI and the config list them. */
export const WATCHER_DECISIONS: readonly WatcherDecision[] = ['allow', 'allow-location', 'allow-presence', 'block', 'polite-block', 'confirm'];

/**
 * One dialog: the changelog's StateWatcher record (schemas/avro/PresenceState.avsc)
 * with its two enumerations narrowed.
 */
export type WatcherDialog = Omit<StateWatcher, 'state' | 'decision'> & {
  /**
   * 'ended': the watcher could not be reached (delivery report); the dialog is
   * kept until its expiry only to remember its CSeq, so a refresh of it goes on
   * from there instead of restarting at 1 (a strict UA answers 500 to a CSeq
   * it has seen, RFC 3261 §12.2.2). It gets no NOTIFYs.
   */
  state: 'active' | 'pending' | 'ended';
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
 * A body made for one dialog's NOTIFY, once its version is known: a
 * dialog-info document carries the subscription's version (RFC 4235 §4.1),
 * so each watcher's differs. Called after the version advanced.
 */
export type DialogBody = (d: Readonly<WatcherDialog>) => NotifyBody | null;

/** No body: an `Event: message` dialog's first NOTIFY (its messages follow, one NOTIFY each). */
export const NO_BODY: DialogBody = () => null;

/** A document the same for every dialog, or made per dialog. */
export type NotifyDocument = NotifyBody | DialogBody;

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
> & { event?: string; contactVerified?: boolean }; // a dialog without them: presence, its Contact vouched for

/** The dialog's next NOTIFY: CSeq and version each advance by one. */
/** The CSeq a notifyId names (`callId/remoteTag/cseq`, made by notify() below); undefined for another form. */
export function notifyIdParts(notifyId: string): { callId: string; remoteTag: string; cseq: number } | undefined {
  const m = /^(.*)\/([^/]*)\/(\d+)$/.exec(notifyId);
  return m ? { callId: m[1]!, remoteTag: m[2]!, cseq: Number(m[3]) } : undefined;
}

export function notify(
  d: NotifierDialog,
  presentity: string,
  state: SubscriptionStateName,
  document: NotifyDocument | null,
  nowMs: number,
  cause: string | null,
  reason: TerminationReason | null = null,
): NotifyRequest {
  d.notifyCseq += 1;
  d.version += 1;
  const doc = typeof document === 'function' ? document(d as WatcherDialog) : document;
  return {
    notifyId: `${d.callId}/${d.remoteTag}/${d.notifyCseq}`,
    presentity,
    event: d.event ?? 'presence',
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
    contactVerified: d.contactVerified ?? true,
  };
}

/** Whether a presence SUBSCRIBE asks for the position (its Accept, its RFC 4661 filter); a dialog (BLF) one never does. */
export const subscribeAsksForLocation = (sub: Subscription): boolean => sub.event !== 'dialog' && asksForLocation(sub.accept, sub.body);

/** Whether the watcher may see the subscriber's position: only a rule that says so. */
export const allowsLocation = (decision: WatcherDecision): boolean => decision === 'allow-location';

/** What a watcher may see: a polite block shows a closed, empty presence (RFC 5025 polite-block). */
function documentFor(d: WatcherDialog, current: NotifyDocument, politeBlocked: NotifyDocument): NotifyDocument | null {
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
  current: NotifyDocument,
  politeBlocked: NotifyDocument,
  nowMs: number,
  localTag: string,
): SubscribeOutcome {
  const key = watcherDialogKey(sub.callId, sub.watcherTag);
  let d = dialogs.get(key);
  const notifies: NotifyRequest[] = [];
  if (d && sub.cseq <= d.subscribeCseq) return { dialogs, notifies };
  if (d?.state === 'ended') {
    // A refresh of a dialog we ended after a failed NOTIFY: the watcher is back.
    // The dialog lives again with its CSeq going on (never restarting).
    if (sub.expires === 0 || decision === 'block') {
      d.subscribeCseq = sub.cseq;
      notifies.push(notify(d, sub.presentity, 'terminated', null, nowMs, sub.requestId, decision === 'block' ? 'rejected' : 'timeout'));
      return { dialogs, notifies };
    }
    d.state = decision === 'confirm' ? 'pending' : 'active';
    d.decision = decision;
  }
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
        event: sub.event,
        contactVerified: sub.contactVerified,
        dialogFilter: sub.dialogFilter,
        wantsLocation: false,
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
      event: sub.event,
      contactVerified: sub.contactVerified,
      // Fixed when the subscription is made: a refresh names the same dialog (RFC 6665 §4.1.2.1, same Event header).
      dialogFilter: sub.dialogFilter,
      wantsLocation: subscribeAsksForLocation(sub),
    };
    if (decision === 'block') {
      notifies.push(notify(d, sub.presentity, 'terminated', null, nowMs, sub.requestId, 'rejected'));
      return { dialogs, notifies };
    }
    dialogs.set(key, d);
  } else {
    d.subscribeCseq = sub.cseq;
    d.contact = sub.contact || d.contact;
    d.contactVerified = sub.contactVerified; // the latest SUBSCRIBE's Contact is the one NOTIFYs go to
    d.routeSet = refreshedRouteSet(d.routeSet, sub.routeSet); // the watcher's current flow, after a NAT rebinding
    d.wantsLocation = subscribeAsksForLocation(sub); // a refresh may change its filter (RFC 4660 §3)
    if (sub.expires === 0) {
      dialogs.delete(key);
      notifies.push(notify(d, sub.presentity, 'terminated', documentFor(d, current, politeBlocked), nowMs, sub.requestId, 'timeout'));
      return { dialogs, notifies };
    }
    d.expiresAt = nowMs + sub.expires * 1000;
    // The presentity decided since the dialog went pending (its rule changed: `presence rules set`, or a consent
    // this refresh overtook): the refresh goes on under the decision, as the consent itself would have.
    if (d.state === 'pending' && decision === 'block') {
      dialogs.delete(key);
      notifies.push(notify(d, sub.presentity, 'terminated', null, nowMs, sub.requestId, 'rejected'));
      return { dialogs, notifies };
    }
    if (d.state === 'pending' && decision !== 'confirm') {
      d.state = 'active';
      d.decision = decision;
    }
  }
  notifies.push(notify(d, sub.presentity, d.state === 'pending' ? 'pending' : 'active', documentFor(d, current, politeBlocked), nowMs, sub.requestId));
  return { dialogs, notifies };
}

/**
 * A NOTIFY to every active dialog of the event package when the presentity's
 * document for it changed — those `wants` keeps: a partial dialog-info change
 * that touches none of the calls a watcher sees tells it nothing.
 */
export function notifyChange(
  dialogs: Map<string, WatcherDialog>,
  presentity: string,
  current: NotifyDocument,
  politeBlocked: NotifyDocument,
  nowMs: number,
  cause: string | null,
  event = 'presence',
  wants: (d: Readonly<WatcherDialog>) => boolean = () => true,
): NotifyRequest[] {
  const out: NotifyRequest[] = [];
  for (const d of dialogs.values())
    if (d.state === 'active' && d.event === event && wants(d)) out.push(notify(d, presentity, 'active', documentFor(d, current, politeBlocked), nowMs, cause));
  return out;
}

/** Subscriptions past their expiry end with a terminated;reason=timeout NOTIFY. */
export function expireDialogs(dialogs: Map<string, WatcherDialog>, presentity: string, nowMs: number): NotifyRequest[] {
  const out: NotifyRequest[] = [];
  for (const [k, d] of dialogs) {
    if (d.expiresAt > nowMs) continue;
    dialogs.delete(k);
    if (d.state === 'ended') continue; // already told (or unreachable)
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
  for (const d of dialogs.values()) if (d.state !== 'ended') out.push(notify(d, presentity, 'terminated', null, nowMs, null, reason));
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

interface DeliveryReportLike {
  readonly notifyId: string;
  readonly callId: string;
  readonly outcome: string;
  /** The last attempt's answer; null when it got none (Timer F, transport error). */
  readonly statusCode?: number | null;
}

/**
 * A delivery report against the dialog (issue 12.3). Only the failure of the
 * dialog's latest NOTIFY ends it: an older one's failure is stale — after a
 * sink restart a re-sent NOTIFY with an old CSeq gets 500 from a strict UA,
 * and a newer NOTIFY has been issued whose own report decides. An ended dialog
 * is kept as 'ended' (its CSeq remembered, see WatcherDialog) and, unless the
 * watcher said the dialog does not exist (gone: 481/404) or its Contact was
 * never vouched for (contactCheck.ts), gets a terminated;reason=deactivated
 * NOTIFY at the next CSeq, so a watcher that was only cut off learns to
 * re-subscribe.
 */
export function applyDeliveryReport(
  dialogs: Map<string, WatcherDialog>,
  presentity: string,
  r: DeliveryReportLike,
  nowMs: number,
): { changed: boolean; notifies: NotifyRequest[] } {
  const none = { changed: false, notifies: [] };
  if (!deliveryEndsSubscription(r.outcome)) return none;
  const id = notifyIdParts(r.notifyId);
  if (id === undefined || id.callId !== r.callId) return { changed: forgetDialog(dialogs, r.callId), notifies: [] };
  const d = dialogs.get(watcherDialogKey(id.callId, id.remoteTag));
  if (!d || d.state === 'ended' || id.cseq < d.notifyCseq) return none;
  d.state = 'ended';
  // Gone: the watcher said so. Unverified Contact: nobody vouched for it, so no more NOTIFYs at it (RFC 6665 §9).
  // Gave up unanswered: a Contact that answers nothing gets no terminated NOTIFY either — it would only be reflected.
  if (r.outcome === 'gone' || d.contactVerified === false || (r.outcome === 'gave-up' && r.statusCode === null)) return { changed: true, notifies: [] };
  return { changed: true, notifies: [notify(d, presentity, 'terminated', null, nowMs, null, 'deactivated')] };
}

/** Forgets the dialog(s) of a Call-ID, no NOTIFY (a report we cannot tie to a CSeq). */
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
