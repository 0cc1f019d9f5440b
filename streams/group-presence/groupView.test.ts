import { describe, expect, it } from 'vitest';
import { applyGroup, applyMemberPresence, memberIndex, newGroupState } from './groupState.ts';
import { groupPresenceRecord, groupView } from './groupView.ts';
import { group, member, presenceOf } from '../../test/support/groupRecords.ts';

const T0 = 1_700_000_000_000;

describe('group-presence record', () => {
  it("does not leak a member's basic status when the member does not share the basic part", () => {
    const st = newGroupState('g1', T0);
    const m1 = member(1, { sharedParts: ['note'] });
    const m2 = member(2);
    applyGroup(st, group([m1, m2]), T0);
    applyMemberPresence(st, memberIndex(st), presenceOf(m1, 'open', 1), T0);
    applyMemberPresence(st, memberIndex(st), presenceOf(m2, 'open', 1), T0);
    const rec = groupPresenceRecord(st, groupView(st), T0);
    const byUri = Object.fromEntries(rec.members.map((m) => [m.uri, m]));
    expect(byUri[m1.uri]!.pidf).not.toContain('<basic>');
    expect(byUri[m1.uri]!.basic).toBeNull();
    expect(byUri[m2.uri]!.basic).toBe('open');
    expect(rec.availableCount).toBe(1);
  });
});
