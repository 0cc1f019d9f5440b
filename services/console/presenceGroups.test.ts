import { describe, expect, it } from 'vitest';
import type { GroupPresence } from '../../schemas/generated/records.ts';
import { loadSettings } from '../../config/settings.ts';
import { groupPerspective } from '../../cli/commands/console.ts';
import { group, member, pidfFor } from '../../test/support/groupRecords.ts';
import { NoSuchRole, PresenceGroups, summarize } from './presenceGroups.ts';

// A team: a manager who receives only the same role, two agents (one shares only its basic status), one who does not share.
const boss = member(1, { role: 'manager', attributes: { 'receive-roles': 'same' } });
const agent = member(2, { role: 'agent' });
const shy = member(3, { role: 'agent', share: false });
const basicOnly = member(4, { role: 'agent', sharedParts: ['basic'] });
const info = group([boss, agent, shy, basicOnly], { version: 3 });

/** The group presence processor's record of that group: members' authorization applied, as it writes it. */
function doc(version: number): GroupPresence {
  return {
    groupId: 'g1',
    version,
    memberCount: 4,
    availableCount: 2,
    contentType: 'multipart/related',
    document: '',
    updatedAt: 1_700_000_001_000,
    uri: info.uri,
    name: info.name,
    adminPolicy: 'members-only',
    groupInfo: '',
    members: [boss, agent, shy, basicOnly].map((m) => ({
      ...m,
      basic: m.share ? 'open' : null,
      pidf: m.share ? pidfFor(m.uri.slice(4, m.uri.indexOf('@')), 'open') : null,
    })),
  };
}

const perspective = groupPerspective(loadSettings());

describe('PresenceGroups', () => {
  it('lists groups from either topic, newest version of each record kept', () => {
    const g = new PresenceGroups();
    expect(g.applyGroup('g1', info)).toBe(true);
    expect(g.applyGroup('g1', { ...info, version: 2 })).toBe(false);
    g.applyPresence('g2', { ...doc(1), groupId: 'g2' });
    expect(g.list().map((x) => [x.groupId, x.infoVersion, x.presenceVersion, x.memberCount])).toEqual([
      ['g1', 3, null, 4],
      ['g2', null, 1, 4],
    ]);
    g.applyGroup('g1', null);
    expect(g.list().map((x) => x.groupId)).toEqual(['g2']);
  });

  it("the group's own view: every member with its policy; a member who does not share shows as rejected, parts narrowed", () => {
    const g = new PresenceGroups();
    g.applyGroup('g1', info);
    g.applyPresence('g1', doc(7));
    const v = g.view('g1', { kind: 'group' }, perspective)!;
    expect(v).toMatchObject({
      name: 'Team',
      adminPolicy: 'members-only',
      attributes: { topic: 'ops' },
      infoVersion: 3,
      presenceVersion: 7,
      allowed: true,
      hidden: 0,
    });
    expect(v.roles).toEqual(['agent', 'manager']);
    expect(v.members.map((m) => [m.uri, m.state])).toEqual([
      [boss.uri, 'active'],
      [agent.uri, 'active'],
      [shy.uri, 'terminated'],
      [basicOnly.uri, 'active'],
    ]);
    expect(v.members[1]!.summary).toEqual({ basic: 'open', activities: ['on-the-phone'], notes: expect.arrayContaining(['at work']) as string[] });
    // Shares its basic status only: no activities, no notes reach the group.
    expect(v.members[3]!.summary).toEqual({ basic: 'open', activities: [], notes: [] });
    expect(v.members[3]!.sharedParts).toEqual(['basic']);
    expect(v.members[2]!.share).toBe(false);
  });

  it('as a watcher of a role: the first member holding it stands as the watcher, with its receiving policy', () => {
    const g = new PresenceGroups();
    g.applyPresence('g1', doc(7));
    // The manager receives only members of its own role.
    const asManager = g.view('g1', { kind: 'role', role: 'manager' }, perspective)!;
    expect(asManager.viewer).toEqual({ kind: 'role', uri: boss.uri, role: 'manager', member: true });
    expect(asManager.members.map((m) => m.uri)).toEqual([boss.uri]);
    expect(asManager.hidden).toBe(3);
    const asAgent = g.view('g1', { kind: 'role', role: 'agent' }, perspective)!;
    expect(asAgent.members).toHaveLength(4);
    // A member named by another form of its number is still that member (found by subscriber key).
    const byTel = g.view('g1', { kind: 'watcher', uri: 'tel:+351910000002' }, perspective)!;
    expect(byTel.viewer).toMatchObject({ member: true, role: 'agent' });
    expect(() => g.view('g1', { kind: 'role', role: 'janitor' }, perspective)).toThrow(NoSuchRole);
  });

  it('an outsider of a members-only group sees nothing; of an open group, everyone', () => {
    const g = new PresenceGroups();
    g.applyPresence('g1', doc(7));
    const out = g.view('g1', { kind: 'watcher', uri: 'sip:stranger@example.org' }, perspective)!;
    expect(out).toMatchObject({ allowed: false, reason: 'not-a-member', members: [], hidden: 4 });
    g.applyPresence('g1', { ...doc(8), adminPolicy: 'anyone' });
    expect(g.view('g1', { kind: 'watcher', uri: 'sip:stranger@example.org' }, perspective)!.members).toHaveLength(4);
  });

  it('before group presence has written the group: its members from the group service, pending', () => {
    const g = new PresenceGroups();
    g.applyGroup('g1', info);
    const v = g.view('g1', { kind: 'group' }, perspective)!;
    expect(v.presenceKnown).toBe(false);
    expect(v.members.map((m) => m.state)).toEqual(['pending', 'pending', 'terminated', 'pending']);
    expect(g.view('nope', { kind: 'group' }, perspective)).toBeUndefined();
  });

  it('summarize: null for no PIDF or one that does not parse', () => {
    expect(summarize(null)).toBeNull();
    expect(summarize('<not-pidf/>')).toBeNull();
  });
});
