// What goes out when a subscriber's presence changed (signaling, PUBLISH, timers,
// an availability rule's boundary): its current-presence record, and NOTIFYs when
// a package's document changed — PIDF to presence watchers (each with its own
// connectability), dialog-info to dialog (BLF) watchers, each only when its own
// document changed.
import type { OutputRecord } from '../../../kafka/transactionalProcessor.ts';
import type { DialogFilter } from '../../../schemas/generated/records.ts';
import { DIALOG_INFO } from '../../../presence-document/dialogInfo.ts';
import type { ManagedSubscriber } from '../managedSubscriber.ts';
import { changeConcerns, changedDialogs, dialogFingerprint, renderDialogDocument } from '../presence/dialogDocument.ts';
import { emptyPresence, type SubscriberPresence } from '../presence/model.ts';
import { nextChangeAt, type UserProfiles } from '../../../subscriber/availability/availabilityProfile.ts';
import { DEFAULT_PROFILES } from '../../../subscriber/availability/settingsProfile.ts';
import { connectabilityFor, type Connectability } from '../presence/connectability.ts';
import { withConnectability } from '../presence/connectabilityElement.ts';
import type { WatcherDialog } from '../subscriptions/watcherDialog.ts';
import { geolocationFingerprint, renderPresence } from '../presence/presenceDocument.ts';
import { summary } from '../presence/summary.ts';
import { allowsLocation, notifyChange, type DialogBody, type NotifyBody, type WatcherDecision } from '../subscriptions/watcherDialog.ts';
import type { EventManagerContext } from './context.ts';
import { pidfFingerprint, toldPidf } from '../pidfFingerprint.ts';

export const PIDF = 'application/pidf+xml';

/** A closed, empty document: what a polite-blocked watcher sees. */
export function politeDocument(key: string): NotifyBody {
  return { contentType: PIDF, body: renderPresence(emptyPresence(key)) };
}

/** politeDocument, rendered only when a polite-blocked watcher is told: most changes have none (it was ~4% of a member's CPU). */
function politeDocumentWhenNeeded(key: string): DialogBody {
  let body: NotifyBody | undefined;
  return () => (body ??= politeDocument(key));
}

export const DIALOG_EVENT = 'dialog';

/**
 * The dialog-info a dialog watcher's NOTIFY carries, made at its version, of
 * the dialogs its subscription names (Event: dialog;call-id=…). Identities
 * only for a watcher the rules allow outright (confirm/polite-block never
 * reach here with calls; a restricted caller is hidden for everyone);
 * `allow-presence` sees the calls' states alone. With
 * `changed`, partial state: only those dialogs (RFC 4235 §4.1).
 */
export function dialogDocument(s: SubscriberPresence, nowMs: number, changed: ReadonlySet<string> | null = null): DialogBody {
  return (d) => ({
    contentType: DIALOG_INFO,
    body: renderDialogDocument(s, {
      entity: d.presentityUri,
      showIdentities: d.decision === 'allow' || d.decision === 'allow-location',
      callDetails: d.decision !== 'allow-presence',
      nowMs,
      version: d.version,
      filter: d.dialogFilter,
      changed,
    }),
  });
}

/** A polite-blocked dialog watcher sees no calls at all. */
export function politeDialogs(key: string): DialogBody {
  return dialogDocument(emptyPresence(key), 0);
}

/** This watcher's connectability: who it is, and whether the presentity consented (its watcher rule allows it). */
export function watcherConnectability(s: SubscriberPresence, profiles: UserProfiles, at: number, d: Readonly<WatcherDialog>): Connectability {
  return connectabilityFor(s, profiles, at, { identity: d.watcherUri, consented: consentGiven(d.decision) }).connectability;
}

/** Whether a watcher rule is the presentity's consent (what "subject to authorisation" waits for). */
export const consentGiven = (decision: WatcherDecision): boolean => decision === 'allow' || decision === 'allow-presence' || allowsLocation(decision);

/**
 * The PIDF a presence watcher is sent: the subscriber's document (`pidf`, what
 * current-presence carries, no position; for a watcher whose rule allows location,
 * the same with the network's position as geopriv, rendered once when first
 * needed) with that watcher's connectability in it.
 */
export function watcherPresence(s: SubscriberPresence, profiles: UserProfiles, pidf: string, at: number): DialogBody {
  let located: string | undefined;
  return (d) => {
    const base = s.geolocation !== null && allowsLocation(d.decision) ? (located ??= renderPresence(s, { withLocation: true })) : pidf;
    return { contentType: PIDF, body: withConnectability(base, watcherConnectability(s, profiles, at, d)) };
  };
}

/**
 * After presence changed: current-presence, and NOTIFYs when the watchers' document
 * changed. `availabilitySince`: an availability rule's boundary passed — presence
 * watchers whose connectability differs from just before it are told, once.
 * `previousProfiles`: the profiles themselves changed (handlers/profileChanges.ts) —
 * watchers whose connectability differs from what those gave now are told; null:
 * the previous profiles are not known, every presence watcher is told.
 */
export function publishPresence(
  ctx: EventManagerContext,
  key: string,
  m: ManagedSubscriber,
  nowMs: number,
  cause: string | null,
  out: OutputRecord[],
  availabilitySince?: number,
  previousProfiles?: UserProfiles | null,
): void {
  const { stats, serde } = ctx;
  stats.presenceChanges++;
  const profiles = ctx.availability.get(key) ?? DEFAULT_PROFILES;
  const current = summary(m.presence, { availability: profiles, at: nowMs });
  out.push({ topic: ctx.topic('current-presence'), key, value: serde.encode('current-presence', current) });
  const notifies = [];
  const perWatcher = watcherPresence(m.presence, profiles, current.pidf, nowMs);
  // A new position alone changes only what watchers allowed location see: only they are told.
  const plainChanged = !toldPidf(m.notifiedPidf, current.pidf);
  const geolocation = geolocationFingerprint(m.presence);
  if (plainChanged || geolocation !== m.notifiedGeolocation) {
    m.notifiedPidf = pidfFingerprint(current.pidf);
    m.notifiedGeolocation = geolocation;
    const concerned = (d: { decision: WatcherDecision }) => plainChanged || allowsLocation(d.decision);
    notifies.push(...notifyChange(m.watchers, key, perWatcher, politeDocumentWhenNeeded(key), nowMs, cause, 'presence', concerned));
  } else if (availabilitySince !== undefined || previousProfiles !== undefined) {
    const before = availabilitySince !== undefined ? availabilitySince - 1 : nowMs;
    const beforeProfiles = previousProfiles === undefined ? profiles : previousProfiles;
    const changed = (d: Readonly<WatcherDialog>) =>
      beforeProfiles === null || watcherConnectability(m.presence, beforeProfiles, before, d) !== watcherConnectability(m.presence, profiles, nowMs, d);
    notifies.push(...notifyChange(m.watchers, key, perWatcher, politeDocumentWhenNeeded(key), nowMs, cause, 'presence', changed));
  }
  m.availabilityBoundaryAt = nextChangeAt(profiles, nowMs) ?? null;
  // Without dialog watchers nothing is remembered: the changelog stays as it was for the many subscribers nobody BLF-watches.
  const calls = [...m.watchers.values()].some((d) => d.event === DIALOG_EVENT) ? dialogFingerprint(m.presence) : null;
  if (calls !== m.notifiedDialogs) {
    // Partial state after the first NOTIFY (RFC 4235 §4.1): every active dialog watcher was told m.notifiedDialogs —
    // in its SUBSCRIBE's full NOTIFY or a change since — so the dialogs that differ from it are what it lacks. A watcher
    // that missed one never goes on from a gap: NOTIFYs of a dialog go out in order and are never superseded
    // (notifySink.ts); a failed one ends the subscription, and its re-SUBSCRIBE gets full state again.
    const changed = calls === null ? null : changedDialogs(m.notifiedDialogs, m.presence);
    m.notifiedDialogs = calls;
    const doc = dialogDocument(m.presence, nowMs, changed);
    const concerned = (d: { dialogFilter: DialogFilter | null }) => changeConcerns(m.presence, changed, d.dialogFilter);
    notifies.push(...notifyChange(m.watchers, key, doc, politeDialogs(key), nowMs, cause, DIALOG_EVENT, concerned));
  }
  for (const n of notifies) {
    out.push({ topic: ctx.topic('notify-requests'), key, value: serde.encode('notify-requests', n) });
    stats.notifies++;
  }
}
