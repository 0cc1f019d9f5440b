// A profile change record through the event manager's handler: the boss and a
// colleague watch a subscriber whose personal profile lets everyone see them
// available; activating the professional profile with its meeting mode on tells
// the colleague in-transfer (once) and the boss nothing, from the record alone
// (no database); a repeat or an older record changes nothing, also after the
// state went through its changelog record (a rebalance); a bad record is refused.
import { describe, expect, it } from 'vitest';
import type { OutputRecord } from '../../../kafka/transactionalProcessor.ts';
import type { AvailabilityProfileChange, NotifyRequest, Presence, SignalingEvent, Subscription } from '../../../schemas/generated/records.ts';
import type { RecordSerde } from '../../../schemas/serde.ts';
import type { UserProfiles } from '../../../subscriber/availability/availabilityProfile.ts';
import type { WatcherRules } from '../authorization/watcherRules.ts';
import { fromStateRecord, newSubscriber, toStateRecord, type ManagedSubscriber } from '../managedSubscriber.ts';
import { CONNECTABILITY_NS } from '../presence/connectabilityElement.ts';
import { EventManagerContext } from './context.ts';
import { profileChanges } from './profileChanges.ts';
import { signalingEvents } from './signalingEvents.ts';
import { subscriptions } from './subscriptions.ts';
import { mapEvent } from '../../../test/support/signalingEvents.ts';
import { subscriptionRecord } from '../../../test/support/subscriptionRecords.ts';
import { BOSS, COLLEAGUE, PROFESSIONAL } from '../../../test/support/availabilityProfiles.ts';

const KEY = 'msisdn:+33600000001';
const AT = Date.UTC(2026, 6, 14, 6, 30);
const PERSONAL: UserProfiles = { ...PROFESSIONAL, active: 'personal' };
/** Professional, its meeting mode set by hand (whatever the calendar says). */
const IN_MEETING: UserProfiles = {
  ...PROFESSIONAL,
  profiles: PROFESSIONAL.profiles.map((p) => (p.name === 'professional' ? { ...p, manualMode: 'meeting' } : p)),
};

type Input = Subscription | SignalingEvent | AvailabilityProfileChange;

const change = (version: number, profiles: UserProfiles, previous: UserProfiles | null, fields: Partial<AvailabilityProfileChange> = {}) => ({
  subscriber: KEY,
  version,
  profiles: JSON.stringify(profiles),
  previous: previous && JSON.stringify(previous),
  changedAt: AT + 1000,
  cause: 'activation',
  ...fields,
});

function context(queue: Input[]): { ctx: EventManagerContext; applied: Array<[string, UserProfiles]> } {
  const serde = { decode: async () => queue.shift(), encode: (_t: string, r: unknown) => Buffer.from(JSON.stringify(r)) } as unknown as RecordSerde;
  const rules = { decide: async () => 'allow' } as unknown as WatcherRules;
  const ctx = new EventManagerContext(serde, rules, 'unit.', 'stream');
  const applied: Array<[string, UserProfiles]> = [];
  ctx.profilesApplied = (k, p) => applied.push([k, p]);
  return { ctx, applied };
}

const decoded = <T>(out: OutputRecord[], topic: string) => out.filter((o) => o.topic === `unit.${topic}`).map((o) => JSON.parse(o.value!.toString()) as T);
const told = (out: OutputRecord[]) =>
  decoded<NotifyRequest>(out, 'notify-requests').map((n) => {
    const m = new RegExp(`<cn:connectability xmlns:cn="${CONNECTABILITY_NS}">([a-z-]+)</cn:connectability>`).exec(n.body!);
    return `${n.callId}:${m?.[1]}`;
  });

/** Attached, watched by the boss and a colleague, with the personal profile in force (as the batch's lookup gave it). */
async function watched(): Promise<{ ctx: EventManagerContext; applied: Array<[string, UserProfiles]>; m: ManagedSubscriber; queue: Input[] }> {
  const records: Input[] = [
    mapEvent(KEY, 'updateLocation', 'invoke', AT - 2000, { vlrNumber: '33609', opc: 1 }),
    mapEvent(KEY, 'updateLocation', 'result', AT - 1000, { dpc: 1 }),
    ...[BOSS, COLLEAGUE].map((w, i) => subscriptionRecord(KEY, `w${i}`, { receivedAt: AT, expires: 86_400, watcherUri: w, localTag: `l${i}` })),
  ];
  const queue: Input[] = [...records];
  const { ctx, applied } = context(queue);
  ctx.availability = new Map([[KEY, PERSONAL]]);
  let m = newSubscriber(KEY);
  const out: OutputRecord[] = [];
  for (const r of records) {
    await ('eventId' in r ? signalingEvents : subscriptions).handle(ctx, 0, KEY, Buffer.alloc(1), m, out);
    m = fromStateRecord(toStateRecord(m));
  }
  expect(told(out)).toEqual(['w0:connectable', 'w1:connectable']);
  // The next batch's lookup would not have it: the record must carry it.
  ctx.availability = new Map();
  return { ctx, applied, m, queue };
}

async function apply(ctx: EventManagerContext, queue: Input[], m: ManagedSubscriber, record: Input): Promise<{ dirty: boolean; out: OutputRecord[] }> {
  queue.push(record);
  const out: OutputRecord[] = [];
  const dirty = await profileChanges.handle(ctx, 0, KEY, Buffer.alloc(1), m, out);
  return { dirty, out };
}

describe('availability-profiles records in the event manager', () => {
  it('recomputes presence and notifies only the watchers whose connectability changed, from the record alone', async () => {
    const { ctx, applied, m, queue } = await watched();
    const { dirty, out } = await apply(ctx, queue, m, change(7, IN_MEETING, PERSONAL));
    expect(dirty).toBe(true);
    // The meeting applies to everyone but the boss: only the colleague is told.
    expect(told(out)).toEqual(['w1:in-transfer']);
    expect(decoded<NotifyRequest>(out, 'notify-requests')[0]).toMatchObject({ causeEventId: 'profiles-v7' });
    expect(decoded<Presence>(out, 'current-presence').map((p) => p.connectability)).toEqual(['subject-to-authorization']);
    expect(m.profilesVersion).toBe(7);
    expect(applied).toEqual([[KEY, IN_MEETING]]);
    expect(ctx.stats.profileChanges).toBe(1);

    // Through the changelog record (a rebalance): the version goes along; the repeat and an older one change nothing.
    const moved = fromStateRecord(toStateRecord(m));
    expect(moved.profilesVersion).toBe(7);
    for (const v of [7, 6]) {
      const again = await apply(ctx, queue, moved, change(v, IN_MEETING, PERSONAL));
      expect(again).toEqual({ dirty: false, out: [] });
    }
    expect(ctx.stats.profileRepeats).toBe(2);

    // Back to personal: the colleague is told connectable again, the boss still nothing.
    expect(told((await apply(ctx, queue, moved, change(9, PERSONAL, IN_MEETING))).out)).toEqual(['w1:connectable']);
    // A change that changes nobody's view: current-presence again, no NOTIFY.
    const same = await apply(ctx, queue, moved, change(10, PERSONAL, PERSONAL, { cause: 'profiles' }));
    expect(told(same.out)).toEqual([]);
    expect(decoded<Presence>(same.out, 'current-presence')).toHaveLength(1);
  });

  it('previous profiles unknown: every presence watcher is told', async () => {
    const { ctx, m, queue } = await watched();
    expect(told((await apply(ctx, queue, m, change(3, IN_MEETING, null))).out)).toEqual(['w0:connectable', 'w1:in-transfer']);
  });

  it('refuses a record for another key or with invalid profiles, naming the field, before changing anything', async () => {
    const { ctx, m, queue } = await watched();
    await expect(apply(ctx, queue, m, change(3, IN_MEETING, PERSONAL, { subscriber: 'msisdn:+33600000002' }))).rejects.toMatchObject({ field: 'subscriber' });
    await expect(apply(ctx, queue, m, change(3, IN_MEETING, PERSONAL, { profiles: '{"active":' }))).rejects.toMatchObject({ field: 'profiles' });
    const bad = JSON.stringify({ ...PERSONAL, active: 'holiday' });
    await expect(apply(ctx, queue, m, change(3, IN_MEETING, PERSONAL, { profiles: bad }))).rejects.toMatchObject({ field: 'profiles.active' });
    expect(m.profilesVersion).toBe(0);
  });
});
