// The punctuator: registration/publication expiry, stale state, stuck calls,
// availability rule boundaries (on the
// partition's presence clock), subscription expiry and the position's refresh for
// watchers allowed it (on its dialogs' clock), for the
// subscribers whose timer is due on either (context.ts: the two clocks).
import type { OutputRecord, ProcessContext } from '../../../kafka/transactionalProcessor.ts';
import { forUpdate, type ManagedSubscriber } from '../managedSubscriber.ts';
import type { AvailabilityStore } from '../../../subscriber/availability/availabilityStore.ts';
import { advance } from '../presence/timers.ts';
import { expireDialogs } from '../subscriptions/watcherDialog.ts';
import { locationDemand, nextLocationAskAt } from '../presence/locationDemand.ts';
import type { EventManagerContext } from './context.ts';
import { watcherSnapshot } from '../subscriptions/watcherInfo.ts';
import { publishPresence } from './presenceChange.ts';
import { sendWithWatcherInfo } from './watcherInfoChange.ts';

export async function fireTimers(
  ctx: EventManagerContext,
  availabilityStore: AvailabilityStore,
  stores: ProcessContext<ManagedSubscriber>,
): Promise<OutputRecord[]> {
  const out: OutputRecord[] = [];
  for (const p of stores.partitions()) {
    const now = ctx.clock(p);
    const dialogNow = ctx.dialogClock(p);
    const store = stores.store(p);
    const due = [...new Set([...(ctx.timers.get(p)?.takeDue(now) ?? []), ...(ctx.dialogTimers.get(p)?.takeDue(dialogNow) ?? [])])];
    if (due.length) ctx.availability = await availabilityStore.getMany(due);
    for (const key of due) {
      const m = store.getForUpdate(key, forUpdate);
      if (!m) continue;
      ctx.stats.timersFired++;
      const r = advance(m.presence, now);
      // An availability rule's boundary passed: connectability may differ for some watchers.
      const boundary = m.availabilityBoundaryAt !== null && m.availabilityBoundaryAt <= now ? m.availabilityBoundaryAt : undefined;
      if (r.changed) m.presence = r.state;
      if (r.changed || boundary !== undefined) publishPresence(ctx, key, m, now, null, out, boundary);
      const before = watcherSnapshot(m.watchers);
      const ended = expireDialogs(m.watchers, key, dialogNow);
      sendWithWatcherInfo(ctx, key, m, before, ended, dialogNow, null, out);
      // A watcher allowed location still subscribed and the position grown old: ask again (named by the due time, so a re-processed batch asks the same).
      const askAt = nextLocationAskAt(m.presence, m.locationAskedAt, m.watchers.values(), ctx.locationPolicy);
      const ask =
        askAt !== null && askAt <= dialogNow
          ? locationDemand(m.presence, m.locationAskedAt, { requestId: `refresh:${key}:${askAt}`, at: dialogNow }, ctx.locationPolicy)
          : null;
      if (ask) {
        out.push({ topic: ctx.topic('location-requests'), key, value: ctx.serde.encode('location-requests', ask) });
        m.locationAskedAt = ask.requestedAt;
        ctx.stats.locationRequests.refresh++;
      }
      store.put(key, m);
      ctx.reschedule(p, key, m);
    }
  }
  return out;
}
