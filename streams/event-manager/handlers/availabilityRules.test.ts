// Issue 16's "done means" through the event manager's handlers: "professional
// profile: in meetings Mon–Fri 9–12 forward to my mobile, except for my boss;
// otherwise available". Two watchers (the boss, a colleague) get the PIDF with
// their own connectability; the 09:00 and 12:00 (Paris) boundaries fire as
// presence timers and NOTIFY, once, only the watcher whose connectability changed.
import { describe, expect, it } from 'vitest';
import { PartitionStore } from '../../../kafka/partitionStore.ts';
import type { OutputRecord, ProcessContext } from '../../../kafka/transactionalProcessor.ts';
import type { NotifyRequest, Presence, SignalingEvent, Subscription } from '../../../schemas/generated/records.ts';
import type { RecordSerde } from '../../../schemas/serde.ts';
import type { AvailabilityStore } from '../../../subscriber/availability/availabilityStore.ts';
import type { WatcherRules } from '../authorization/watcherRules.ts';
import { fromStateRecord, newSubscriber, toStateRecord, type ManagedSubscriber } from '../managedSubscriber.ts';
import { CONNECTABILITY_NS } from '../presence/connectabilityElement.ts';
import { parsePidf } from '../../../presence-document/parse.ts';
import { EventManagerContext } from './context.ts';
import { signalingEvents } from './signalingEvents.ts';
import { subscriptions } from './subscriptions.ts';
import { fireTimers } from './timers.ts';
import { mapEvent } from '../../../test/support/signalingEvents.ts';
import { subscriptionRecord } from '../../../test/support/subscriptionRecords.ts';
import { BOSS, COLLEAGUE, PROFESSIONAL } from '../../../test/support/availabilityProfiles.ts';

const KEY = 'msisdn:+33600000001';
// Tuesday 14 Jul 2026, Paris (UTC+2): 08:30, 10:00, 13:00 local.
const AT_0830 = Date.UTC(2026, 6, 14, 6, 30);
const AT_1000 = Date.UTC(2026, 6, 14, 8);
const AT_1300 = Date.UTC(2026, 6, 14, 11);

const watch = (callId: string, watcherUri: string): Subscription =>
  subscriptionRecord(KEY, callId, { receivedAt: AT_0830, expires: 86_400, watcherUri, watcherTag: `w-${callId}`, localTag: `l-${callId}` });

function context(records: Array<Subscription | SignalingEvent>): EventManagerContext {
  const serde = { decode: async () => records.shift(), encode: (_t: string, r: unknown) => Buffer.from(JSON.stringify(r)) } as unknown as RecordSerde;
  const rules = { decide: async () => 'allow' } as unknown as WatcherRules;
  const ctx = new EventManagerContext(serde, rules, 'unit.', 'stream');
  ctx.availability = new Map([[KEY, PROFESSIONAL]]);
  return ctx;
}

const decoded = (out: OutputRecord[], topic: string) => out.filter((o) => o.topic === `unit.${topic}`).map((o) => JSON.parse(o.value!.toString()) as unknown);
/** Each NOTIFY's watcher (by Call-ID) and the connectability its PIDF carries. */
const told = (out: OutputRecord[]) =>
  (decoded(out, 'notify-requests') as NotifyRequest[]).map((n) => {
    const m = new RegExp(`<cn:connectability xmlns:cn="${CONNECTABILITY_NS}">([a-z-]+)</cn:connectability>`).exec(n.body!);
    parsePidf(n.body!); // still a PIDF document a watcher can parse
    return `${n.callId}:${m?.[1]}`;
  });

describe('availability rules through the event manager (issue 16 done means)', () => {
  it('boss and colleague each get their own connectability; 09:00 and 12:00 notify the colleague once, the boss never', async () => {
    const attach = [
      mapEvent(KEY, 'updateLocation', 'invoke', AT_0830 - 2000, { vlrNumber: '33609', opc: 1 }),
      mapEvent(KEY, 'updateLocation', 'result', AT_0830 - 1000, { dpc: 1 }),
    ];
    const records = [...attach, watch('boss', BOSS), watch('colleague', COLLEAGUE)];
    const ctx = context([...records]);
    let m = newSubscriber(KEY);
    const initial: OutputRecord[] = [];
    for (const r of records) {
      await ('eventId' in r ? signalingEvents : subscriptions).handle(ctx, 0, KEY, Buffer.alloc(1), m, initial);
      m = fromStateRecord(toStateRecord(m)); // through the changelog record, as a restore would
    }
    // 08:30: no meeting, both see connectable; the next boundary is 09:00 local.
    expect(told(initial)).toEqual(['boss:connectable', 'colleague:connectable']);
    expect(m.availabilityBoundaryAt).toBe(Date.UTC(2026, 6, 14, 7));

    // A rebalance: the new owner rebuilds its timers from the changelog state alone.
    const store = new PartitionStore<ManagedSubscriber>(0);
    store.put(KEY, m);
    store.commit();
    ctx.rebuildTimers(0, { store: () => store, partitions: () => [0] });
    const stores: ProcessContext<ManagedSubscriber> = { store: () => store, partitions: () => [0] };
    const lookups: string[][] = [];
    const availability = {
      getMany: async (keys: string[]) => {
        lookups.push(keys);
        return new Map([[KEY, PROFESSIONAL]]);
      },
    } as unknown as AvailabilityStore;
    const fireAt = async (t: number) => {
      ctx.advanceStream(0, t);
      const out = await fireTimers(ctx, availability, stores);
      store.commit();
      return out;
    };

    // Before 09:00 nothing fires.
    expect(await fireAt(Date.UTC(2026, 6, 14, 6, 59))).toEqual([]);
    // 10:00 (stream time passed 09:00): the colleague is told in-transfer, the boss nothing.
    const at10 = await fireAt(AT_1000);
    expect(told(at10)).toEqual(['colleague:in-transfer']);
    // current-presence (anonymous: others need consent in this profile).
    expect((decoded(at10, 'current-presence') as Presence[]).map((p) => p.connectability)).toEqual(['subject-to-authorization']);
    expect(store.get(KEY)!.availabilityBoundaryAt).toBe(Date.UTC(2026, 6, 14, 10));
    // Once: firing again at the same time tells nobody.
    expect(await fireAt(AT_1000)).toEqual([]);
    // 13:00 (passed 12:00): the colleague is told connectable again, the boss nothing; next: Wednesday 09:00.
    expect(told(await fireAt(AT_1300))).toEqual(['colleague:connectable']);
    expect(store.get(KEY)!.availabilityBoundaryAt).toBe(Date.UTC(2026, 6, 15, 7));
    expect(lookups).toEqual([[KEY], [KEY]]);
  });
});
