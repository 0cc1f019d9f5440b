// When the event manager asks for a position (issue 19, Le), beyond the first
// SUBSCRIBE: only a watcher that asks for location (its Accept, its RFC 4661
// filter) and whose rule allows it; at most once per subscriber per interval
// however many such watchers come; and again while one stays subscribed, each
// time the position grows older than the setting — a dialog timer, named by its
// due time. An unsubscribed or merely 'allow' watcher keeps nothing fresh.
import { describe, expect, it } from 'vitest';
import { PartitionStore } from '../../../kafka/partitionStore.ts';
import type { OutputRecord, ProcessContext } from '../../../kafka/transactionalProcessor.ts';
import type { LocationRequest, SignalingEvent, Subscription } from '../../../schemas/generated/records.ts';
import type { AvailabilityStore } from '../../../subscriber/availability/availabilityStore.ts';
import { locationEvent } from '../../../taps/network-query/locationEvent.ts';
import { handlerContext, written } from '../../../test/support/handlerRun.ts';
import { subscriptionRecord } from '../../../test/support/subscriptionRecords.ts';
import { fromStateRecord, newSubscriber, toStateRecord, type ManagedSubscriber } from '../managedSubscriber.ts';
import type { EventManagerContext } from './context.ts';
import { signalingEvents } from './signalingEvents.ts';
import { subscriptions } from './subscriptions.ts';
import { fireTimers } from './timers.ts';

const KEY = 'msisdn:+351910000001';
const T = Date.UTC(2026, 0, 1, 8);
const RULES: Record<string, string> = { 'sip:family@example.com': 'allow-location', 'sip:friend@example.com': 'allow' };
const MAX_AGE = 900_000;
const MIN_INTERVAL = 60_000;

const sub = (callId: string, watcherUri: string, at: number, fields: Partial<Subscription> = {}) =>
  subscriptionRecord(KEY, callId, { receivedAt: at, watcherUri, ...fields });
const position = (at: number) =>
  locationEvent(
    KEY,
    { msisdn: '351910000001', latitude: 38.7401, longitude: -9.1501, radiusM: null, time: at, method: 'A-GPS' },
    { agent: 'location-agent', answeredAt: at + 500 },
  );

const onlyBasic = Buffer.from(
  '<filter-set xmlns="urn:ietf:params:xml:ns:simple-filter"><filter id="1"><what><include type="xpath">//pidf:basic</include></what></filter></filter-set>',
);
const geopriv = Buffer.from(
  '<filter-set xmlns="urn:ietf:params:xml:ns:simple-filter"><filter id="1"><what><include type="xpath">//gp:geopriv</include></what></filter></filter-set>',
);

/** One subscriber on partition 0 of an event manager: records through their handlers, timers fired at chosen instants. */
class Member {
  readonly ctx: EventManagerContext;
  private readonly queue: Array<Subscription | SignalingEvent> = [];
  private readonly store = new PartitionStore<ManagedSubscriber>(0);
  readonly asked: LocationRequest[] = [];

  constructor() {
    this.ctx = handlerContext(this.queue, (w) => RULES[w] ?? 'block');
    this.ctx.locationMaxAgeMs = MAX_AGE;
    this.ctx.locationMinIntervalMs = MIN_INTERVAL;
  }

  get m(): ManagedSubscriber {
    return this.store.get(KEY) ?? newSubscriber(KEY);
  }

  async record(r: Subscription | SignalingEvent): Promise<void> {
    this.queue.push(r);
    const m = fromStateRecord(toStateRecord(this.m)); // through the changelog record, as a restore would
    const out: OutputRecord[] = [];
    await ('eventId' in r ? signalingEvents : subscriptions).handle(this.ctx, 0, KEY, Buffer.alloc(1), m, out);
    this.keep(m, out);
  }

  /** The dialogs' clock moved to `at` (a SUBSCRIBE elsewhere on the partition) and the punctuator ran. */
  async tick(at: number): Promise<void> {
    this.ctx.advanceSubscriptions(0, at);
    const stores: ProcessContext<ManagedSubscriber> = { store: () => this.store, partitions: () => [0] };
    const out = await fireTimers(this.ctx, { getMany: async () => new Map() } as unknown as AvailabilityStore, stores);
    this.asked.push(...written<LocationRequest>(out, 'location-requests'));
    this.store.commit();
  }

  private keep(m: ManagedSubscriber, out: OutputRecord[]): void {
    this.asked.push(...written<LocationRequest>(out, 'location-requests'));
    this.store.put(KEY, m);
    this.store.commit();
    this.ctx.reschedule(0, KEY, m);
  }
}

describe('location requests beyond the first SUBSCRIBE', () => {
  it('asks only for a watcher whose filter (or Accept) asks for location', async () => {
    const em = new Member();
    await em.record(sub('basic', 'sip:family@example.com', T, { body: onlyBasic }));
    await em.record(sub('xpidf', 'sip:family@example.com', T + 1000, { accept: ['application/xpidf+xml'] }));
    expect(em.asked).toEqual([]);
    await em.record(sub('geo', 'sip:family@example.com', T + 2000, { body: geopriv }));
    expect(em.asked.map((r) => [r.requestId, r.reason])).toEqual([['location:sub-geo-1', 'watcher']]);
    // Nobody who asked is subscribed, beyond 'geo': the timer serves it alone.
    expect(em.m.watchers.size).toBe(3);
    expect([...em.m.watchers.values()].filter((d) => d.wantsLocation).map((d) => d.callId)).toEqual(['geo']);
  });

  it('at most one request per subscriber per interval, however many watchers subscribe', async () => {
    const em = new Member();
    await em.record(sub('fam1', 'sip:family@example.com', T));
    await em.record(sub('fam2', 'sip:family@example.com', T + 10_000));
    await em.record(sub('fam3', 'sip:family@example.com', T + 59_999));
    expect(em.asked.map((r) => r.requestId)).toEqual(['location:sub-fam1-1']);
    // No answer came (the GMLC did not know it): once the interval is over, the watchers still subscribed ask again — once.
    await em.tick(T + 59_999);
    expect(em.asked).toHaveLength(1);
    await em.tick(T + 60_000);
    await em.tick(T + 60_500);
    expect(em.asked.map((r) => [r.requestId, r.requestedAt, r.reason])).toEqual([
      ['location:sub-fam1-1', T, 'watcher'],
      [`location:refresh:${KEY}:${T + 60_000}`, T + 60_000, 'watcher'],
    ]);
    expect(em.m.locationAskedAt).toBe(T + 60_000);
    expect(em.ctx.stats.locationRequests).toEqual({ subscribe: 1, refresh: 1 });
  });

  it('re-asks while an allowed watcher stays subscribed, each time the position grows older than the setting, and stops when it leaves', async () => {
    const em = new Member();
    await em.record(sub('fam', 'sip:family@example.com', T, { expires: 7200 }));
    await em.record(sub('fr', 'sip:friend@example.com', T, { expires: 7200 }));
    await em.record(position(T + 1000));
    await em.tick(T + 1000 + MAX_AGE); // exactly the setting's age: still fresh
    expect(em.asked).toHaveLength(1);
    await em.tick(T + 1000 + MAX_AGE + 1);
    expect(em.asked.slice(1).map((r) => [r.requestId, r.reason, r.maxLocationAgeS])).toEqual([[`location:refresh:${KEY}:${T + 1001 + MAX_AGE}`, 'stale', 900]]);
    // The answer brings a new position: the next request waits for it to age in turn.
    await em.record(position(T + 1000 + MAX_AGE + 2000));
    await em.tick(T + 1000 + 2 * MAX_AGE);
    expect(em.asked).toHaveLength(2);
    await em.tick(T + 1000 + 2 * MAX_AGE + 2001);
    expect(em.asked).toHaveLength(3);
    // The family watcher unsubscribes: the 'allow' watcher left keeps nothing fresh.
    await em.record(sub('fam', 'sip:family@example.com', T + 1000 + 2 * MAX_AGE + 3000, { expires: 0, cseq: 2 }));
    await em.tick(T + 1000 + 4 * MAX_AGE);
    expect(em.asked).toHaveLength(3);
    expect(em.m.watchers.size).toBe(1);
  });
});
