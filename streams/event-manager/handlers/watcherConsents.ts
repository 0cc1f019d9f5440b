// watcher-consents: the presentity approved or denied a watcher (HTTP API,
// issue 16.4). Its rule is already stored; here its pending dialogs become
// active with the document, or end rejected, and its winfo dialogs are told.
import { parseDecision } from '../authorization/watcherRules.ts';
import { DEFAULT_PROFILES } from '../../../subscriber/availability/settingsProfile.ts';
import { dialogFingerprint } from '../presence/dialogDocument.ts';
import { renderPresence } from '../presence/presenceDocument.ts';
import { applyConsent } from '../subscriptions/watcherConsent.ts';
import { watcherSnapshot } from '../subscriptions/watcherInfo.ts';
import type { TopicHandler } from './context.ts';
import { DIALOG_EVENT, dialogDocument, politeDialogs, politeDocument, watcherPresence } from './presenceChange.ts';
import { sendWithWatcherInfo } from './watcherInfoChange.ts';
import { pidfFingerprint } from '../pidfFingerprint.ts';

export const watcherConsents: TopicHandler = {
  topic: 'watcher-consents',
  // An approved presence watcher's first document carries its connectability, from the profiles.
  needsAvailability: true,
  async handle(ctx, p, key, value, m, out) {
    const c = await ctx.serde.decode('watcher-consents', value);
    // A decision we do not know is bad input (dead-lettered), never a guess.
    const decision = parseDecision(c.decision, 'consent decision');
    ctx.stats.consents++;
    // New SUBSCRIBEs of this watcher meet the stored rule, not a cached 'confirm'.
    ctx.rules.forget(key, c.watcher);
    // An answer carries the API's wall clock, as a SUBSCRIBE the front end's: it moves the dialogs' clock only (context.ts).
    ctx.advanceSubscriptions(p, c.decidedAt);
    const now = ctx.clock(p);
    const nowMs = ctx.dialogClock(p);
    const pidf = renderPresence(m.presence);
    const presence = watcherPresence(m.presence, ctx.availability.get(key) ?? DEFAULT_PROFILES, pidf, now);
    const calls = dialogDocument(m.presence, now);
    const before = watcherSnapshot(m.watchers);
    const notifies = applyConsent(
      m.watchers,
      key,
      c.watcher,
      decision,
      (d) =>
        d.event === DIALOG_EVENT
          ? d.decision === 'polite-block'
            ? politeDialogs(key)
            : calls
          : d.decision === 'polite-block'
            ? politeDocument(key)
            : presence,
      nowMs,
      c.consentId,
    );
    if (notifies.length === 0) return false;
    if (m.notifiedPidf === null) m.notifiedPidf = pidfFingerprint(pidf);
    // An approved dialog watcher was sent the calls as they are now (the others were told each change).
    if (notifies.some((n) => n.event === DIALOG_EVENT && n.body !== null)) m.notifiedDialogs = dialogFingerprint(m.presence);
    sendWithWatcherInfo(ctx, key, m, before, notifies, nowMs, c.consentId, out);
    return true;
  },
};
