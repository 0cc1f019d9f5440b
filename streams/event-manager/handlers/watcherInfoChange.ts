// The NOTIFYs a handler made, out to notify-requests, followed by what the
// presentity's own watcher-info (presence.winfo) dialogs are told when those
// changes added, approved or ended a presence watcher (subscriptions/watcherInfo.ts).
import type { OutputRecord } from '../../../kafka/transactionalProcessor.ts';
import type { NotifyRequest } from '../../../schemas/generated/records.ts';
import type { ManagedSubscriber } from '../managedSubscriber.ts';
import { notifyWatcherInfo, type WatcherSnapshot } from '../subscriptions/watcherInfo.ts';
import type { EventManagerContext } from './context.ts';

export function sendWithWatcherInfo(
  ctx: EventManagerContext,
  key: string,
  m: ManagedSubscriber,
  before: WatcherSnapshot,
  notifies: readonly NotifyRequest[],
  nowMs: number,
  cause: string | null,
  out: OutputRecord[],
): void {
  const all = [...notifies, ...notifyWatcherInfo(m.watchers, key, before, notifies, nowMs, cause)];
  for (const n of all) out.push({ topic: ctx.topic('notify-requests'), key, value: ctx.serde.encode('notify-requests', n) });
  ctx.stats.notifies += all.length;
}
