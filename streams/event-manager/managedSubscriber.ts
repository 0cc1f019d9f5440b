// What an event manager keeps per subscriber it owns: the derived presence,
// the watchers' subscription dialogs, and the document watchers were last
// told — one value in the store, one record in the changelog.
import type { PresenceState, StateWatcher } from '../../schemas/generated/records.ts';
import { emptyPresence, type SubscriberPresence } from './presence/model.ts';
import { fromRecord, toRecord } from './presence/stateRecord.ts';
import { WINFO_EVENT } from './subscriptions/watcherInfo.ts';
import { MESSAGE_EVENT, MESSAGE_SUMMARY_EVENT, messageStateFrom, messageStateRecord, type MessageState } from './subscriptions/messageWaiting.ts';
import { WATCHER_DECISIONS, watcherDialogKey, type WatcherDecision, type WatcherDialog } from './subscriptions/watcherDialog.ts';

export interface ManagedSubscriber {
  presence: SubscriberPresence;
  watchers: Map<string, WatcherDialog>;
  notifiedPidf: string | null;
  /** dialogFingerprint of what dialog (BLF) watchers were last told; null until one subscribed. */
  notifiedDialogs: string | null;
  /** geolocationFingerprint of what watchers allowed location were last told; null: no position told. */
  notifiedGeolocation: string | null;
  /** When the last location request was written (the dialogs' clock); null: never. Requests are rate-limited per subscriber by it. */
  locationAskedAt: number | null;
  /** The next instant an availability rule can change watchers' connectability (a presence timer); null: none ahead. */
  availabilityBoundaryAt: number | null;
  /** The version of the newest availability-profiles record applied (handlers/profileChanges.ts); 0: none. */
  profilesVersion: number;
  /** Message waiting and new messages held for its Event: message-summary / message watchers; null: none yet. */
  messages: MessageState | null;
}

export function newSubscriber(subscriber: string): ManagedSubscriber {
  return {
    presence: emptyPresence(subscriber),
    watchers: new Map(),
    notifiedPidf: null,
    notifiedDialogs: null,
    notifiedGeolocation: null,
    locationAskedAt: null,
    availabilityBoundaryAt: null,
    profilesVersion: 0,
    messages: null,
  };
}

/**
 * A copy to change within a batch: handlers mutate dialogs (CSeq, version) and
 * fields in place, and an aborted transaction only discards the store's pending
 * writes — changes made to the committed value itself would survive the abort
 * (the re-read record would then find its event already applied and notify nobody).
 */
export function forUpdate(m: ManagedSubscriber): ManagedSubscriber {
  return { ...m, watchers: new Map([...m.watchers].map(([k, d]) => [k, { ...d, routeSet: [...d.routeSet] }])) };
}

const watcherRecord = (d: WatcherDialog): StateWatcher => ({ ...d, routeSet: [...d.routeSet] });

export function toStateRecord(m: ManagedSubscriber): PresenceState {
  // Set on the presence part's own object, not spread into a new one: spreading a record
  // this wide cost ~100 µs per call, most of the hot path's time (issue 15).
  const r = toRecord(m.presence) as PresenceState;
  r.watchers = [...m.watchers.values()].map(watcherRecord);
  r.notifiedPidf = m.notifiedPidf;
  r.notifiedDialogs = m.notifiedDialogs;
  r.notifiedGeolocation = m.notifiedGeolocation;
  r.locationAskedAt = m.locationAskedAt;
  r.availabilityBoundaryAt = m.availabilityBoundaryAt;
  r.profilesVersion = m.profilesVersion;
  r.messages = messageStateRecord(m.messages);
  return r;
}

/** The packages a held dialog may be of; anything else read back is taken as presence. */
const KNOWN_EVENTS = ['presence', 'dialog', WINFO_EVENT, MESSAGE_SUMMARY_EVENT, MESSAGE_EVENT] as const;

export function fromStateRecord(r: PresenceState): ManagedSubscriber {
  const watchers = new Map<string, WatcherDialog>();
  for (const w of r.watchers ?? []) {
    watchers.set(watcherDialogKey(w.callId, w.remoteTag), {
      ...w,
      routeSet: [...w.routeSet],
      event: (KNOWN_EVENTS as readonly string[]).includes(w.event) ? w.event : 'presence',
      state: w.state === 'pending' || w.state === 'ended' ? w.state : 'active',
      decision: ((WATCHER_DECISIONS as readonly string[]).includes(w.decision) ? w.decision : 'allow') as WatcherDecision,
    });
  }
  return {
    presence: fromRecord(r),
    watchers,
    notifiedPidf: r.notifiedPidf ?? null,
    notifiedDialogs: r.notifiedDialogs ?? null,
    notifiedGeolocation: r.notifiedGeolocation ?? null,
    locationAskedAt: r.locationAskedAt ?? null,
    availabilityBoundaryAt: r.availabilityBoundaryAt ?? null,
    profilesVersion: r.profilesVersion ?? 0,
    messages: messageStateFrom(r.messages),
  };
}
