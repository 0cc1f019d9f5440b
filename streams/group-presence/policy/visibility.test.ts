import { describe, expect, it } from 'vitest';
import { parsePidf } from '../../../presence-document/parse.ts';
import { member, pidfFor } from '../../../test/support/groupRecords.ts';
import { mayWatch } from './authorization.ts';
import { ACCEPT_ALL } from './receiving.ts';
import { sharedView, visibleMembers, type MemberWithPresence } from './visibility.ts';

const withPresence = (n: number, o: Parameters<typeof member>[1] = {}, pidf: string | null = pidfFor(`user${n}`, 'open')): MemberWithPresence => ({
  ...member(n, o),
  pidf,
});

describe('administrator policy', () => {
  const members = [member(1), member(2)];
  it('lets members subscribe (host compared case-insensitively, user part exactly) and keeps outsiders out by default', () => {
    expect(mayWatch('members-only', members, 'sip:user1@example.com')).toEqual({ allowed: true, member: true });
    expect(mayWatch('members-only', members, '<sip:user2@Example.COM>;tag=x')).toEqual({ allowed: true, member: true });
    expect(mayWatch('members-only', members, 'sip:stranger@example.com')).toEqual({ allowed: false, reason: 'not-a-member' });
  });
  it('lets anyone subscribe when the administrator says so; an unknown policy stays closed', () => {
    expect(mayWatch('anyone', members, 'sip:stranger@example.com').allowed).toBe(true);
    expect(mayWatch('everyone?', members, 'sip:stranger@example.com').allowed).toBe(false);
  });
});

describe('member authorization and watcher receiving policies', () => {
  it('shares by default, withholds presence of a member who refuses, shows pending when unknown', () => {
    expect(sharedView(withPresence(1, { share: null as unknown as boolean })).state).toBe('active');
    expect(sharedView(withPresence(2, { share: false }))).toMatchObject({ state: 'terminated', reason: 'rejected', pidf: null });
    expect(sharedView(withPresence(3, {}, null))).toMatchObject({ state: 'pending', pidf: null });
  });

  it('applies shared parts before the watcher asks for more', () => {
    const m = withPresence(1, { sharedParts: ['basic'] });
    const v = visibleMembers([m], [sharedView(m)], 'sip:user9@example.com', { ...ACCEPT_ALL, parts: ['basic', 'note'] });
    const doc = parsePidf(v[0]!.pidf!);
    expect(doc.services[0]!.basic).toBe('open');
    expect(doc.persons[0]!.notes).toEqual([]);
  });

  it("filters by the watcher's own role, named roles, members, or refuses everything", () => {
    const ms = [withPresence(1, { role: 'dispatcher' }), withPresence(2, { role: 'driver' }), withPresence(3, { role: 'dispatcher' }), withPresence(4)];
    const shared = ms.map(sharedView);
    const uris = (p: typeof ACCEPT_ALL, w = 'sip:user1@example.com') => visibleMembers(ms, shared, w, p).map((v) => v.uri);
    expect(uris({ ...ACCEPT_ALL, roles: 'same' })).toEqual(['sip:user1@example.com', 'sip:user3@example.com']);
    expect(uris({ ...ACCEPT_ALL, roles: 'same' }, 'sip:user4@example.com')).toEqual([]); // no role: nobody has the same
    expect(uris({ ...ACCEPT_ALL, roles: ['driver'] })).toEqual(['sip:user2@example.com']);
    expect(uris({ ...ACCEPT_ALL, members: ['sip:user4@example.com'] })).toEqual(['sip:user4@example.com']);
    expect(uris({ ...ACCEPT_ALL, refuse: true })).toEqual([]);
    expect(uris(ACCEPT_ALL)).toHaveLength(4);
  });
});
