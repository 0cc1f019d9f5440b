// A presentity's answer to a watcher (issue 16.4) applied to its dialogs: the
// `confirm` rule left them pending; approved, they become active and get the
// document at once; denied (block), they end with reason=rejected (RFC 6665
// §4.2.2). An active dialog whose rule changed is told what the new rule
// shows (a polite block: the closed stand-in) or, blocked, ended.
import type { NotifyRequest } from '../../../schemas/generated/records.ts';
import { watcherIdentity } from '../../../subscriber/identity/watcherIdentity.ts';
import { OWN_PACKAGES } from './messageWaiting.ts';
import { notify, type NotifyDocument, type WatcherDecision, type WatcherDialog } from './watcherDialog.ts';

/** Whether a rule's watcher (a URI, or *@domain) names this dialog's watcher. */
export function consentCovers(ruleWatcher: string, watcherUri: string): boolean {
  const who = watcherIdentity(watcherUri);
  if (ruleWatcher.startsWith('*@')) return who.includes('@') && who.slice(who.lastIndexOf('@') + 1) === ruleWatcher.slice(2).toLowerCase();
  return who === watcherIdentity(ruleWatcher);
}

/**
 * Applies `decision` to the presentity's dialogs of `watcher`; `documentFor`
 * gives a dialog's document under its (new) decision. The winfo dialogs are
 * the presentity's own: a consent never touches them.
 */
export function applyConsent(
  dialogs: Map<string, WatcherDialog>,
  presentity: string,
  watcher: string,
  decision: WatcherDecision,
  documentFor: (d: Readonly<WatcherDialog>) => NotifyDocument,
  nowMs: number,
  cause: string,
): NotifyRequest[] {
  const out: NotifyRequest[] = [];
  for (const [k, d] of dialogs) {
    if (OWN_PACKAGES.includes(d.event) || d.state === 'ended' || !consentCovers(watcher, d.watcherUri)) continue;
    if (decision === 'block') {
      dialogs.delete(k);
      out.push(notify(d, presentity, 'terminated', null, nowMs, cause, 'rejected'));
      continue;
    }
    // Still undecided ('confirm' again): nothing to tell.
    if (decision === 'confirm' || (d.state === 'active' && d.decision === decision)) continue;
    d.state = 'active';
    d.decision = decision;
    out.push(notify(d, presentity, 'active', documentFor(d), nowMs, cause));
  }
  return out;
}
