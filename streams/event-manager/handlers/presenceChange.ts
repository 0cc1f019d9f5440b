// What goes out when a subscriber's presence changed (signaling, PUBLISH, timers):
// its current-presence record, and NOTIFYs when the watchers' document changed.
import type { OutputRecord } from '../../../kafka/transactionalProcessor.ts';
import type { ManagedSubscriber } from '../managedSubscriber.ts';
import { emptyPresence } from '../presence/model.ts';
import { renderPresence } from '../presence/presenceDocument.ts';
import { summary } from '../presence/summary.ts';
import { notifyChange, type NotifyBody } from '../subscriptions/watcherDialog.ts';
import type { EventManagerContext } from './context.ts';

export const PIDF = 'application/pidf+xml';

/** A closed, empty document: what a polite-blocked watcher sees. */
export function politeDocument(key: string): NotifyBody {
  return { contentType: PIDF, body: renderPresence(emptyPresence(key)) };
}

/** After presence changed: current-presence, and NOTIFYs when the watchers' document changed. */
export function publishPresence(ctx: EventManagerContext, key: string, m: ManagedSubscriber, nowMs: number, cause: string | null, out: OutputRecord[]): void {
  const { stats, serde } = ctx;
  stats.presenceChanges++;
  const current = summary(m.presence, { availability: ctx.availability.get(key) });
  out.push({ topic: ctx.topic('current-presence'), key, value: serde.encode('current-presence', current) });
  if (current.pidf === m.notifiedPidf) return;
  m.notifiedPidf = current.pidf;
  for (const n of notifyChange(m.watchers, key, { contentType: PIDF, body: current.pidf }, politeDocument(key), nowMs, cause)) {
    out.push({ topic: ctx.topic('notify-requests'), key, value: serde.encode('notify-requests', n) });
    stats.notifies++;
  }
}
