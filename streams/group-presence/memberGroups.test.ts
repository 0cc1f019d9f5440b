import { describe, expect, it } from 'vitest';
import type { GroupMembership, Presence } from '../../schemas/generated/records.ts';
import { applyDeletion, applyMembership, applyPresence, applyProvisioned, isEmpty, newMemberGroups } from './memberGroups.ts';
import { pidfFor } from '../../test/support/groupRecords.ts';

const S = 'msisdn:+351910000001';
const presence = (version: number, basic: 'open' | 'closed'): Presence => ({
  subscriber: S,
  version,
  basic,
  networkState: 'attached',
  callState: 'idle',
  connectability: 'unknown',
  servingNode: null,
  cellGlobalId: null,
  activities: null,
  note: null,
  pidf: pidfFor('u1', basic),
  dialogs: null,
  updatedAt: 1000 + version,
});
const join = (groupId: string, member = true): GroupMembership => ({
  subscriber: S,
  groupId,
  memberUri: 'sip:u1@example.com',
  member,
  groupVersion: 1,
  time: 1,
});

describe("a member's groups and presence (membership processor)", () => {
  it('keeps presence without groups and serves it to a group joined later (Action 508)', () => {
    const a = applyPresence(newMemberGroups(S, 0), presence(1, 'open'), 10);
    expect(a.out).toEqual([]);
    expect(isEmpty(a.state!)).toBe(false);
    const b = applyMembership(a.state!, join('g1'), 20);
    expect(b.out).toEqual([expect.objectContaining({ groupId: 'g1', subscriber: S, member: true, basic: 'open', presenceVersion: 1 })]);
    expect(b.out[0]!.pidf).toContain('<basic>open</basic>');
  });

  it('fans a presence change out to every group, ignoring older versions and repeats', () => {
    let st = applyMembership(applyMembership(newMemberGroups(S, 0), join('g1'), 1).state!, join('g2'), 2).state!;
    const c = applyPresence(st, presence(2, 'closed'), 3);
    expect(c.out.map((o) => [o.groupId, o.basic])).toEqual([
      ['g1', 'closed'],
      ['g2', 'closed'],
    ]);
    st = c.state!;
    expect(applyPresence(st, presence(1, 'open'), 4)).toEqual({ state: null, out: [] });
    expect(applyPresence(st, presence(3, 'closed'), 4)).toEqual({ state: null, out: [] });
  });

  it('a call change that leaves the PIDF as it was still fans out: BLF list watchers need the dialogs (Presence.dialogs)', () => {
    const st = applyMembership(newMemberGroups(S, 0), join('g1'), 1).state!;
    const before = applyPresence(st, presence(2, 'open'), 2).state!;
    const ringing = JSON.stringify([{ id: 'c1', state: 'early' }]);
    const c = applyPresence(before, { ...presence(3, 'open'), dialogs: ringing }, 3);
    expect(c.out).toEqual([expect.objectContaining({ groupId: 'g1', dialogs: ringing, presenceVersion: 3 })]);
    expect(applyPresence(c.state!, { ...presence(4, 'open'), dialogs: ringing }, 4)).toEqual({ state: null, out: [] });
    // A leave carries no calls.
    expect(applyMembership(c.state!, join('g1', false), 5).out[0]!.dialogs).toBeNull();
  });

  it('a leave tells that group to forget the member; a member in no group without presence needs no state', () => {
    const st = applyMembership(newMemberGroups(S, 0), join('g1'), 1).state!;
    expect(st.groups).toHaveLength(1);
    const left = applyMembership(st, join('g1', false), 2);
    expect(left.out).toEqual([expect.objectContaining({ groupId: 'g1', member: false, pidf: null, basic: null })]);
    expect(isEmpty(left.state!)).toBe(true);
  });

  it('a repeated join updates the member URI and answers again, without duplicating the group', () => {
    const st = applyMembership(newMemberGroups(S, 0), join('g1'), 1).state!;
    const again = applyMembership(st, { ...join('g1'), memberUri: 'sip:new@example.com' }, 2);
    expect(again.state!.groups).toEqual([{ groupId: 'g1', memberUri: 'sip:new@example.com' }]);
    expect(again.out).toHaveLength(1);
  });

  it('a deleted subscriber leaves all its groups, refuses later joins and is answered normally once provisioned again', () => {
    let st = applyMembership(applyMembership(applyPresence(newMemberGroups(S, 0), presence(1, 'open'), 1).state!, join('g1'), 2).state!, join('g2'), 3).state!;
    const del = applyDeletion(st, 10);
    expect(del.out.map((o) => [o.groupId, o.member, o.deleted, o.pidf])).toEqual([
      ['g1', false, true, null],
      ['g2', false, true, null],
    ]);
    st = del.state!;
    expect(st).toMatchObject({ deleted: true, groups: [], pidf: null });
    expect(isEmpty(st)).toBe(false); // the mark is kept
    expect(applyDeletion(st, 11)).toEqual({ state: null, out: [] });
    expect(applyPresence(st, presence(2, 'open'), 12)).toEqual({ state: null, out: [] });
    expect(applyMembership(st, join('g3'), 13).out).toEqual([expect.objectContaining({ groupId: 'g3', member: false, deleted: true })]);
    expect(applyMembership(st, join('g3', false), 13).out).toEqual([]);
    st = applyProvisioned(st, 14).state!;
    expect(st.deleted).toBe(false);
    expect(applyProvisioned(st, 15).state).toBeNull();
    st = applyPresence(st, presence(3, 'closed'), 16).state!;
    expect(applyMembership(st, join('g3'), 17).out).toEqual([expect.objectContaining({ groupId: 'g3', member: true, deleted: false, basic: 'closed' })]);
  });
});
