// The event manager's two clocks (issue 12, defect 10): presence timers run on stream
// time (the newest signaling event time of the partition, so a replayed capture from
// 2009 expires on 2009's clock), watchers' dialogs on the SUBSCRIBEs' own (wall-clock)
// times. A live SUBSCRIBE must not move stream time (it jumped to today and expired
// every registration of the replay at once), and dialogs must still expire.
import { describe, expect, it } from 'vitest';
import { PartitionStore } from '../../../kafka/partitionStore.ts';
import type { ProcessContext } from '../../../kafka/transactionalProcessor.ts';
import type { Subscription } from '../../../schemas/generated/records.ts';
import type { RecordSerde } from '../../../schemas/serde.ts';
import type { AvailabilityStore } from '../../../subscriber/availability/availabilityStore.ts';
import type { WatcherRules } from '../authorization/watcherRules.ts';
import { newSubscriber, type ManagedSubscriber } from '../managedSubscriber.ts';
import { EventManagerContext } from './context.ts';
import { subscriptions } from './subscriptions.ts';
import { fireTimers } from './timers.ts';
import { subscriptionRecord } from '../../../test/support/subscriptionRecords.ts';

const KEY = 'msisdn:+351910000077';
const REPLAY_TIME = Date.UTC(2009, 5, 1);

function subscription(receivedAt: number, expires: number, callId = 'clock-1'): Subscription {
  return subscriptionRecord(KEY, callId, { receivedAt, expires, presentityUri: 'sip:+351910000077@ims.example.net', watcherTag: 'wt-1', localTag: 'fe-1' });
}

/** The handler's collaborators: records pass through as JSON (decode hands out `subs` in turn), every watcher is allowed. */
function context(...subs: Subscription[]): EventManagerContext {
  const serde = { decode: async () => subs.shift(), encode: (_t: string, r: unknown) => Buffer.from(JSON.stringify(r)) } as unknown as RecordSerde;
  const rules = { decide: async () => 'allow' } as unknown as WatcherRules;
  return new EventManagerContext(serde, rules, 'unit.', 'stream');
}

describe('timer clocks', () => {
  it('a SUBSCRIBE stamped with the wall clock does not move the partition stream time', async () => {
    const sub = subscription(Date.now(), 3600);
    const ctx = context(sub);
    ctx.advanceStream(0, REPLAY_TIME); // the replayed signaling seen so far
    await subscriptions.handle(ctx, 0, KEY, Buffer.alloc(1), newSubscriber(KEY), []);
    expect(ctx.clock(0)).toBe(REPLAY_TIME);
  });

  it('a dialog expires on the SUBSCRIBEs clock while the partition stream time stays in the replay', async () => {
    const now = Date.now();
    // A 1 s dialog, then another watcher's SUBSCRIBE 5 s later: the first has expired by then.
    const ctx = context(subscription(now - 5000, 1, 'clock-1'), subscription(now, 3600, 'clock-2'));
    ctx.advanceStream(0, REPLAY_TIME);
    const m = newSubscriber(KEY);
    await subscriptions.handle(ctx, 0, KEY, Buffer.alloc(1), m, []);
    await subscriptions.handle(ctx, 0, KEY, Buffer.alloc(1), m, []);
    const store = new PartitionStore<ManagedSubscriber>(0);
    store.put(KEY, m);
    store.commit();
    ctx.reschedule(0, KEY, m);
    const stores: ProcessContext<ManagedSubscriber> = { store: () => store, partitions: () => [0] };
    const availability = { getMany: async () => new Map() } as unknown as AvailabilityStore;
    const out = await fireTimers(ctx, availability, stores);
    const notifies = out.filter((o) => o.topic === 'unit.notify-requests').map((o) => JSON.parse(o.value!.toString()) as { subscriptionState: string });
    expect(notifies.map((n) => n.subscriptionState)).toEqual(['terminated']);
    expect(ctx.clock(0)).toBe(REPLAY_TIME);
  });
});
