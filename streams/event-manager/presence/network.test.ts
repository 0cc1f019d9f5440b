// MAP facts of the README table → network state, serving node, location and activity.
import { describe, expect, it } from 'vitest';
import type { SignalingEvent } from '../../../schemas/generated/records.ts';
import { apply } from './derive.ts';
import { callStateOf, servingNodeOf, type SubscriberPresence } from './model.ts';
import { mapEvent } from '../../../test/support/signalingEvents.ts';

const SUB = 'imsi:001010000000001';
const T = Date.UTC(2026, 0, 1);
const VLR_PC = 2105;
const HLR_PC = 3113;

function fold(events: SignalingEvent[], s?: SubscriberPresence): SubscriberPresence {
  return events.reduce<SubscriberPresence | undefined>((st, e) => apply(st, e).state, s)!;
}

const ulInvoke = (t: number, vlr = '441122', pc = VLR_PC) =>
  mapEvent(SUB, 'updateLocation', 'invoke', t, { vlrNumber: vlr, mscNumber: vlr, opc: pc, dpc: HLR_PC });
const ulResult = (t: number, pc = VLR_PC) => mapEvent(SUB, 'updateLocation', 'result', t, { hlrNumber: '441354', opc: HLR_PC, dpc: pc });
const attached = () => fold([ulInvoke(T), ulResult(T + 100)]);

describe('updateLocation / updateGprsLocation', () => {
  it('invoke → attaching; result → attached since the result, with the VLR/MSC from the invoke', () => {
    const s1 = fold([ulInvoke(T)]);
    expect(s1.network.state).toBe('attaching');
    expect(s1.network.pending).toMatchObject({ domain: 'cs', node: { number: '441122', pointCode: VLR_PC }, previous: 'unknown' });
    const s2 = fold([ulResult(T + 100)], s1);
    expect(s2.network).toMatchObject({ state: 'attached', since: T + 100, vlr: { number: '441122', pointCode: VLR_PC }, mscNumber: '441122', pending: null });
    expect(servingNodeOf(s2)).toBe('441122');
  });

  it('a location update of an attached subscriber keeps it attached (periodic update or move)', () => {
    const s = fold([ulInvoke(T + 1000, '441199', 2200)], attached());
    expect(s.network.state).toBe('attached');
    expect(s.network.since).toBe(T + 100);
    const moved = fold([ulResult(T + 1100, 2200)], s);
    expect(moved.network.vlr).toEqual({ number: '441199', pointCode: 2200 });
    expect(moved.network.since).toBe(T + 100);
  });

  it('a result without its invoke still attaches; the serving point code is the result destination', () => {
    const s = fold([ulResult(T)]);
    expect(s.network).toMatchObject({ state: 'attached', vlr: { number: null, pointCode: VLR_PC } });
  });

  it('a late invoke fills in the VLR number a result-only attach lacked, without regressing', () => {
    const s = fold([ulResult(T + 100), ulInvoke(T)]);
    expect(s.network).toMatchObject({ state: 'attached', vlr: { number: '441122', pointCode: VLR_PC }, since: T + 100 });
  });

  it('roamingNotAllowed → detached with the error as reason', () => {
    const s = fold([ulInvoke(T), mapEvent(SUB, 'updateLocation', 'error', T + 50, { error: 'roamingNotAllowed' })]);
    expect(s.network).toMatchObject({ state: 'detached', reason: 'roamingNotAllowed', pending: null, vlr: null });
  });

  it('a transient error (systemFailure) returns to the state before the attempt', () => {
    const before = fold([mapEvent(SUB, 'purgeMS', 'invoke', T - 5000, { vlrNumber: '441122' })]);
    const s = fold([ulInvoke(T), mapEvent(SUB, 'updateLocation', 'error', T + 50, { error: 'systemFailure' })], before);
    expect(s.network.state).toBe('purged');
    expect(s.network.pending).toBeNull();
  });

  it('updateGprsLocation attaches the packet domain with the SGSN', () => {
    const s = fold([
      mapEvent(SUB, 'updateGprsLocation', 'invoke', T, { sgsnNumber: '861370800', opc: 75874, dpc: 75836 }),
      mapEvent(SUB, 'updateGprsLocation', 'result', T + 10, { hlrNumber: '8615100406', opc: 75836, dpc: 75874 }),
    ]);
    expect(s.network).toMatchObject({ state: 'attached', sgsn: { number: '861370800', pointCode: 75874 }, vlr: null });
    expect(servingNodeOf(s)).toBe('861370800');
  });
});

describe('cancelLocation / purgeMS', () => {
  it('cancelLocation to the serving VLR → detached', () => {
    const s = fold([mapEvent(SUB, 'cancelLocation', 'invoke', T + 5000, { opc: HLR_PC, dpc: VLR_PC })], attached());
    expect(s.network).toMatchObject({ state: 'detached', reason: 'cancelLocation', vlr: null });
  });

  it('cancelLocation to the old VLR while attaching elsewhere is a move, not a detach', () => {
    const moving = fold([ulInvoke(T + 5000, '441199', 2200)], attached());
    const s = fold([mapEvent(SUB, 'cancelLocation', 'invoke', T + 5010, { opc: HLR_PC, dpc: VLR_PC }), ulResult(T + 5100, 2200)], moving);
    expect(s.network).toMatchObject({ state: 'attached', vlr: { number: '441199', pointCode: 2200 } });
  });

  it('cancelLocation to some other node leaves the state alone', () => {
    const s = fold([mapEvent(SUB, 'cancelLocation', 'invoke', T + 5000, { opc: HLR_PC, dpc: 9999 })], attached());
    expect(s.network.state).toBe('attached');
  });

  it('cancelLocation of the SGSN keeps a CS-attached subscriber attached', () => {
    const both = fold(
      [
        mapEvent(SUB, 'updateGprsLocation', 'invoke', T + 200, { sgsnNumber: '861370800', opc: 75874 }),
        mapEvent(SUB, 'updateGprsLocation', 'result', T + 210, { dpc: 75874 }),
      ],
      attached(),
    );
    const s = fold([mapEvent(SUB, 'cancelLocation', 'invoke', T + 5000, { dpc: 75874 })], both);
    expect(s.network).toMatchObject({ state: 'attached', sgsn: null, vlr: { number: '441122' } });
  });

  it('purgeMS from the serving VLR → purged', () => {
    const s = fold([mapEvent(SUB, 'purgeMS', 'invoke', T + 5000, { vlrNumber: '441122', opc: VLR_PC })], attached());
    expect(s.network).toMatchObject({ state: 'purged', since: T + 5000, reason: 'purgeMS', vlr: null, mscNumber: null });
  });

  it('purgeMS from an old VLR after a move changes nothing', () => {
    const s = fold([mapEvent(SUB, 'purgeMS', 'invoke', T + 5000, { vlrNumber: '449999' })], attached());
    expect(s.network.state).toBe('attached');
  });
});

describe('anyTimeInterrogation result', () => {
  it('assumedIdle: attached at the VLR, cell global id and age → location observed age minutes before', () => {
    const s = fold([
      mapEvent(SUB, 'anyTimeInterrogation', 'result', T, {
        subscriberState: 'assumedIdle',
        vlrNumber: '919028055000',
        cellGlobalId: '405-037-7005-31319',
        ageOfLocation: 2,
      }),
    ]);
    expect(s.network).toMatchObject({ state: 'attached', reportedState: 'assumedIdle', vlr: { number: '919028055000' } });
    expect(s.location).toEqual({ cellGlobalId: '405-037-7005-31319', ageMinutes: 2, observedAt: T - 120_000, reportedAt: T });
  });

  it('camelBusy: in a call although no call signaling was seen', () => {
    const s = fold([mapEvent(SUB, 'anyTimeInterrogation', 'result', T, { subscriberState: 'camelBusy' })]);
    expect(s.network.state).toBe('attached');
    expect(callStateOf(s)).toBe('in-call');
  });

  it('netDetNotReachable with its reason: imsiDetached → detached, msPurged → purged', () => {
    const d = fold([mapEvent(SUB, 'anyTimeInterrogation', 'result', T + 1000, { subscriberState: 'netDetNotReachable:imsiDetached' })], attached());
    expect(d.network).toMatchObject({ state: 'detached', reason: 'netDetNotReachable:imsiDetached', vlr: null });
    const p = fold([mapEvent(SUB, 'anyTimeInterrogation', 'result', T + 1000, { subscriberState: 'netDetNotReachable:msPurged' })], attached());
    expect(p.network.state).toBe('purged');
  });

  it('an older location report does not replace a newer observation', () => {
    const s = fold([
      mapEvent(SUB, 'anyTimeInterrogation', 'result', T, { subscriberState: 'assumedIdle', cellGlobalId: '001-01-1-2', ageOfLocation: 0 }),
      mapEvent(SUB, 'anyTimeInterrogation', 'result', T + 60_000, { subscriberState: 'assumedIdle', cellGlobalId: '001-01-1-3', ageOfLocation: 5 }),
    ]);
    expect(s.location?.cellGlobalId).toBe('001-01-1-2');
  });
});

describe('routing and SMS', () => {
  it('sendRoutingInfo / sendRoutingInfoForSM invokes: someone is calling / texting the subscriber', () => {
    const s = fold([mapEvent(SUB, 'sendRoutingInfo', 'invoke', T), mapEvent(SUB, 'sendRoutingInfoForSM', 'invoke', T + 1)]);
    expect(s.activity).toEqual({ 'incoming-call-attempt': T, 'incoming-sms-attempt': T + 1 });
  });

  it('sendRoutingInfoForSM result names the serving MSC: an unknown subscriber becomes attached there', () => {
    const s = fold([mapEvent(SUB, 'sendRoutingInfoForSM', 'result', T, { mscNumber: '41794947000' })]);
    expect(s.network).toMatchObject({ state: 'attached', mscNumber: '41794947000' });
  });

  it('absentSubscriberSM from sendRoutingInfoForSM → detached', () => {
    const s = fold([mapEvent(SUB, 'sendRoutingInfoForSM', 'error', T + 1000, { error: 'absentSubscriberSM' })], attached());
    expect(s.network).toMatchObject({ state: 'detached', reason: 'absentSubscriberSM' });
  });

  it('mo-ForwardSM → sms-sent, mt-ForwardSM → sms-received, forwardSM by direction', () => {
    const s = fold([mapEvent(SUB, 'mo-ForwardSM', 'invoke', T), mapEvent(SUB, 'mt-ForwardSM', 'invoke', T + 1)]);
    expect(s.activity).toEqual({ 'sms-sent': T, 'sms-received': T + 1 });
    const mt = fold([mapEvent(SUB, 'forwardSM', 'invoke', T + 2, {}, { identities: { imsi: '001010000000001', msisdn: null, aor: null } })]);
    expect(mt.activity).toEqual({ 'sms-received': T + 2 });
    const mo = fold([mapEvent(SUB, 'forwardSM', 'invoke', T + 3, {}, { identities: { imsi: null, msisdn: '+15550001', aor: null } })]);
    expect(mo.activity).toEqual({ 'sms-sent': T + 3 });
  });

  it('a late SMS does not move the last activity back', () => {
    const s = fold([mapEvent(SUB, 'mo-ForwardSM', 'invoke', T + 10), mapEvent(SUB, 'mo-ForwardSM', 'invoke', T)]);
    expect(s.activity['sms-sent']).toBe(T + 10);
  });

  it('sendAuthenticationInfo is network activity only: seen, no state', () => {
    const s = fold([mapEvent(SUB, 'sendAuthenticationInfo', 'invoke', T)]);
    expect(s.network).toMatchObject({ state: 'unknown', seenAt: T });
  });
});

describe('out-of-order network facts', () => {
  it('an older purgeMS does not detach a subscriber attached later', () => {
    const s = fold([mapEvent(SUB, 'purgeMS', 'invoke', T - 1000, { vlrNumber: '441122' })], attached());
    expect(s.network.state).toBe('attached');
  });

  it('an older updateLocation result does not re-attach a purged subscriber', () => {
    const purged = fold([mapEvent(SUB, 'purgeMS', 'invoke', T + 5000, { vlrNumber: '441122' })], attached());
    const s = fold([ulResult(T + 200)], purged);
    expect(s.network.state).toBe('purged');
  });
});
