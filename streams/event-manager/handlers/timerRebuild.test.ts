// rebuildTimers(): after a restore the partition goes live at once and its timer index
// is rebuilt in chunks between event-loop turns; a key a batch reschedules meanwhile
// keeps the batch's timer, and a revoke ends the scan.
import { describe, expect, it } from 'vitest';
import { PartitionStore } from '../../../kafka/partitionStore.ts';
import type { ProcessContext } from '../../../kafka/processorTypes.ts';
import type { RecordSerde } from '../../../schemas/serde.ts';
import type { WatcherRules } from '../authorization/watcherRules.ts';
import { newSubscriber, type ManagedSubscriber } from '../managedSubscriber.ts';
import { apply } from '../presence/derive.ts';
import { mapEvent } from '../../../test/support/signalingEvents.ts';
import { EventManagerContext, TIMER_REBUILD_CHUNK } from './context.ts';

const T = Date.UTC(2026, 0, 1);
const N = TIMER_REBUILD_CHUNK * 2 + 500;
const key = (i: number) => `msisdn:+1${String(i).padStart(9, '0')}`;

/** A subscriber attaching at T (an updateLocation without its answer: a timer ~1 min later), its last event at T + i. */
function attaching(i: number): ManagedSubscriber {
  const m = newSubscriber(key(i));
  m.presence = apply(m.presence, mapEvent(key(i), 'updateLocation', 'invoke', T + i, { vlrNumber: '1', opc: 1 })).state;
  return m;
}

function restored(): ProcessContext<ManagedSubscriber> {
  const store = new PartitionStore<ManagedSubscriber>(0);
  for (let i = 0; i < N; i++) store.put(key(i), attaching(i));
  store.commit();
  return { store: () => store, partitions: () => [0] };
}

const context = () => new EventManagerContext({} as RecordSerde, {} as WatcherRules, 't.', 'stream');

describe('the timer index rebuilt after a restore', () => {
  it('indexes the first chunk at once and the rest between event-loop turns; the stream clock ends at the newest event', async () => {
    const ctx = context();
    const done = ctx.rebuildTimers(0, restored());
    expect(ctx.timers.get(0)!.size).toBe(TIMER_REBUILD_CHUNK);
    expect(ctx.rebuildingTimers).toEqual([0]);
    await done;
    expect(ctx.timers.get(0)!.size).toBe(N);
    expect(ctx.rebuildingTimers).toEqual([]);
    expect(ctx.clock(0)).toBe(T + N - 1);
  });

  it('keeps the timer a batch set meanwhile for a key the scan had not reached (the scan reads an older state)', async () => {
    const ctx = context();
    const stores = restored();
    const done = ctx.rebuildTimers(0, stores);
    // A batch purges the last subscriber (no timer left) before the scan reaches it; its store write is not committed yet.
    const last = key(N - 1);
    const purged = newSubscriber(last);
    purged.presence = apply(purged.presence, mapEvent(last, 'purgeMS', 'invoke', T + N, { vlrNumber: '1' })).state;
    ctx.reschedule(0, last, purged);
    await done;
    expect(ctx.timers.get(0)!.size).toBe(N - 1);
    expect(ctx.timers.get(0)!.takeDue(T + 3_600_000)).not.toContain(last);
  });

  it('stops when the partition is revoked, and a new rebuild replaces one in progress', async () => {
    const ctx = context();
    const stores = restored();
    const first = ctx.rebuildTimers(0, stores);
    ctx.forget(0);
    await first;
    expect(ctx.timers.get(0)).toBeUndefined();
    expect(ctx.rebuildingTimers).toEqual([]);

    const a = ctx.rebuildTimers(0, stores);
    const b = ctx.rebuildTimers(0, stores);
    await Promise.all([a, b]);
    expect(ctx.timers.get(0)!.size).toBe(N);
    expect(ctx.rebuildingTimers).toEqual([]);
  });
});
