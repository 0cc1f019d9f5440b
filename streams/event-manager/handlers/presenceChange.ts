// What goes out when a subscriber's presence changed (signaling, PUBLISH, timers):
// its current-presence record, and NOTIFYs when a package's document changed —
// PIDF to presence watchers, dialog-info to dialog (BLF) watchers, each only
// when its own document changed.
import type { OutputRecord } from '../../../kafka/transactionalProcessor.ts';
import type { DialogFilter } from '../../../schemas/generated/records.ts';
import { DIALOG_INFO } from '../../../presence-document/dialogInfo.ts';
import type { ManagedSubscriber } from '../managedSubscriber.ts';
import { changeConcerns, changedDialogs, dialogFingerprint, renderDialogDocument } from '../presence/dialogDocument.ts';
import { emptyPresence, type SubscriberPresence } from '../presence/model.ts';
import { geolocationFingerprint, renderPresence } from '../presence/presenceDocument.ts';
import { summary } from '../presence/summary.ts';
import { allowsLocation, notifyChange, type DialogBody, type NotifyBody, type NotifyDocument, type WatcherDecision } from '../subscriptions/watcherDialog.ts';
import type { EventManagerContext } from './context.ts';

export const PIDF = 'application/pidf+xml';

/** A closed, empty document: what a polite-blocked watcher sees. */
export function politeDocument(key: string): NotifyBody {
  return { contentType: PIDF, body: renderPresence(emptyPresence(key)) };
}

export const DIALOG_EVENT = 'dialog';

/**
 * The PIDF a presence watcher gets: `plain` (what current-presence carries, no
 * position), and for a watcher whose rule allows location, the same document
 * with the network's position as geopriv — rendered once, when first needed.
 */
export function presenceBody(s: SubscriberPresence, plain: NotifyBody): NotifyDocument {
  if (s.geolocation === null) return plain;
  let located: NotifyBody | undefined;
  return (d: { decision: WatcherDecision }) =>
    allowsLocation(d.decision) ? (located ??= { contentType: PIDF, body: renderPresence(s, { withLocation: true }) }) : plain;
}

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

/** After presence changed: current-presence, and NOTIFYs when the watchers' document changed. */
export function publishPresence(ctx: EventManagerContext, key: string, m: ManagedSubscriber, nowMs: number, cause: string | null, out: OutputRecord[]): void {
  const { stats, serde } = ctx;
  stats.presenceChanges++;
  const current = summary(m.presence, { availability: ctx.availability.get(key) });
  out.push({ topic: ctx.topic('current-presence'), key, value: serde.encode('current-presence', current) });
  const notifies = [];
  // A new position alone changes only what watchers allowed location see: only they are told.
  const plainChanged = current.pidf !== m.notifiedPidf;
  const geolocation = geolocationFingerprint(m.presence);
  if (plainChanged || geolocation !== m.notifiedGeolocation) {
    m.notifiedPidf = current.pidf;
    m.notifiedGeolocation = geolocation;
    const body = presenceBody(m.presence, { contentType: PIDF, body: current.pidf });
    const concerned = (d: { decision: WatcherDecision }) => plainChanged || allowsLocation(d.decision);
    notifies.push(...notifyChange(m.watchers, key, body, politeDocument(key), nowMs, cause, 'presence', concerned));
  }
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
