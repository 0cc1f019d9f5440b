// subscriptions: a watcher's SUBSCRIBE via a front end opens, refreshes or ends its
// dialog; the watcher rules decide what it may see.
import { isOutage } from '../../../kafka/errorClass.ts';
import { allowsLocation, applySubscribe, NO_BODY, subscribeAsksForLocation, watcherDialogKey } from '../subscriptions/watcherDialog.ts';
import { MESSAGE_EVENT, MESSAGE_SUMMARY_EVENT, summaryBody, tellPending } from '../subscriptions/messageWaiting.ts';
import { locationDemand } from '../presence/locationDemand.ts';
import { renderPresence } from '../presence/presenceDocument.ts';
import { dialogFingerprint } from '../presence/dialogDocument.ts';
import { DependencyUnavailable, type TopicHandler } from './context.ts';
import { DIALOG_EVENT, dialogDocument, politeDialogs, politeDocument, watcherPresence } from './presenceChange.ts';
import { nextChangeAt } from '../../../subscriber/availability/availabilityProfile.ts';
import { DEFAULT_PROFILES } from '../../../subscriber/availability/settingsProfile.ts';
import { watcherInfoDocument, watcherSnapshot, WINFO_EVENT } from '../subscriptions/watcherInfo.ts';
import { sendWithWatcherInfo } from './watcherInfoChange.ts';
import { pidfFingerprint } from '../pidfFingerprint.ts';

export const subscriptions: TopicHandler = {
  topic: 'subscriptions',
  // The first NOTIFY carries the watcher's connectability, from the profiles.
  needsAvailability: true,
  async handle(ctx, p, key, value, m, out) {
    const sub = await ctx.serde.decode('subscriptions', value);
    ctx.stats.subscribes++;
    // The dialogs' clock, not stream time: a SUBSCRIBE carries the front end's wall clock (context.ts).
    ctx.advanceSubscriptions(p, sub.receivedAt);
    // The notifier's tag: the one the front end answered with, else stable per dialog.
    const localTag = sub.localTag ?? `em${Buffer.from(`${sub.callId}/${sub.watcherTag}`).toString('base64url').slice(0, 12)}`;
    const before = watcherSnapshot(m.watchers);
    if (sub.event === MESSAGE_SUMMARY_EVENT || sub.event === MESSAGE_EVENT) {
      // The subscriber's own mailbox (RFC 3842, seed 003): the front end let only the subscriber itself subscribe.
      // message-summary: the summary held (nothing waiting before any came); message: no body, then the messages
      // held while nobody was subscribed, one NOTIFY each.
      const doc = sub.event === MESSAGE_SUMMARY_EVENT ? summaryBody(m.messages) : NO_BODY;
      const { notifies } = applySubscribe(m.watchers, sub, 'allow', doc, doc, sub.receivedAt, localTag);
      if (sub.event === MESSAGE_EVENT && notifies.length > 0)
        notifies.push(...tellPending(m, m.watchers.get(watcherDialogKey(sub.callId, sub.watcherTag)), key, sub.receivedAt, sub.requestId));
      sendWithWatcherInfo(ctx, key, m, before, notifies, sub.receivedAt, sub.requestId, out);
      return true;
    }
    if (sub.event === WINFO_EVENT) {
      // The presentity's own watcher list (RFC 3857): the front end let only the presentity itself subscribe,
      // so no rule applies; every (re)SUBSCRIBE gets the full list.
      const { notifies } = applySubscribe(
        m.watchers,
        sub,
        'allow',
        watcherInfoDocument(m.watchers, sub.receivedAt),
        watcherInfoDocument(m.watchers, sub.receivedAt),
        sub.receivedAt,
        localTag,
      );
      sendWithWatcherInfo(ctx, key, m, before, notifies, sub.receivedAt, sub.requestId, out);
      return true;
    }
    // The database down: retry the batch. The database refusing this record's values
    // (e.g. a NUL in the watcher URI, SQLSTATE 22021): the record is bad, dead-letter it.
    const decision = await ctx.rules.decide(sub.presentity, sub.watcherUri).catch((err: Error) => {
      if (isOutage(err)) throw new DependencyUnavailable(`watcher rules unavailable: ${err.message}`, { cause: err });
      throw err;
    });
    let notifies;
    if (sub.event === DIALOG_EVENT) {
      // The full dialog-info now (RFC 4235 §3.10 first NOTIFY); durations on the partition's presence clock, the calls' own.
      const doc = dialogDocument(m.presence, ctx.clock(p));
      ({ notifies } = applySubscribe(m.watchers, sub, decision, doc, politeDialogs(key), sub.receivedAt, localTag));
      // Every dialog watcher now knows the current calls (the others were told each change).
      m.notifiedDialogs = dialogFingerprint(m.presence);
    } else {
      const body = renderPresence(m.presence);
      const profiles = ctx.availability.get(key) ?? DEFAULT_PROFILES;
      const now = ctx.clock(p);
      ({ notifies } = applySubscribe(
        m.watchers,
        sub,
        decision,
        watcherPresence(m.presence, profiles, body, now),
        politeDocument(key),
        sub.receivedAt,
        localTag,
      ));
      if (m.notifiedPidf === null) m.notifiedPidf = pidfFingerprint(body);
      // A watcher allowed location that asks for it and no fresh position: ask the location agent (answered on
      // signaling-events), unless one was asked for too recently. While it stays subscribed a dialog timer re-asks.
      const ask =
        allowsLocation(decision) && sub.expires > 0 && subscribeAsksForLocation(sub)
          ? locationDemand(m.presence, m.locationAskedAt, { requestId: sub.requestId, at: sub.receivedAt }, ctx.locationPolicy)
          : null;
      if (ask) {
        out.push({ topic: ctx.topic('location-requests'), key, value: ctx.serde.encode('location-requests', ask) });
        m.locationAskedAt = ask.requestedAt;
        ctx.stats.locationRequests.subscribe++;
      }
      // The watcher was told its connectability as of now: the next rule boundary tells it of a change
      // (a boundary already passed but not yet fired stays: the other watchers have not been told).
      if (m.availabilityBoundaryAt === null || m.availabilityBoundaryAt > now) m.availabilityBoundaryAt = nextChangeAt(profiles, now) ?? null;
    }
    // A watcher that appeared (pending or active) or left: the presentity's winfo dialogs are told.
    sendWithWatcherInfo(ctx, key, m, before, notifies, sub.receivedAt, sub.requestId, out);
    return true;
  },
};
