import { describe, expect, it } from 'vitest';
import { parseMultipart } from '../../../presence-document/multipart.ts';
import { parseRlmi } from '../../../presence-document/rlmi.ts';
import { applyGroup, applyMemberPresence, memberIndex, newGroupState } from '../groupState.ts';
import { groupPresenceRecord, groupView } from '../groupView.ts';
import { group, member, presenceOf } from '../../../test/support/groupRecords.ts';
import { ACCEPT_ALL } from './receiving.ts';
import { visibleGroupDocument } from './visibleGroupDocument.ts';

function record(adminPolicy = 'members-only') {
  const ms = [
    member(1, { role: 'a' }),
    member(2, { role: 'b', share: false }),
    member(3, { role: 'a', sharedParts: ['basic'] }),
    member(4, { role: 'b', attributes: { 'receive-roles': 'same' } }),
  ];
  const st = newGroupState('g1', 0);
  applyGroup(st, group(ms, { adminPolicy }), 0);
  for (const m of ms) applyMemberPresence(st, memberIndex(st), presenceOf(m, 'open', 1), 0);
  st.version = 5;
  return groupPresenceRecord(st, groupView(st), 0);
}

const resources = (contentType: string, body: string) => {
  const boundary = /boundary="([^"]+)"/.exec(contentType)![1]!;
  return parseRlmi(parseMultipart(Buffer.from(body), boundary)[0]!.body).resources.map((r) => [r.uri, r.instances[0]!.state]);
};

describe('visibleGroupDocument (GET /groups/{id}/presence)', () => {
  it('never carries presence a member does not share, nor parts it keeps', () => {
    const gp = record();
    expect(gp.members[1]!.pidf).toBeNull();
    expect(gp.members[2]!.pidf).not.toContain('on-the-phone');
    expect(gp.availableCount).toBe(3);
  });

  it('serves members, refuses outsiders unless the group is open to anyone', () => {
    expect(visibleGroupDocument(record(), 'sip:stranger@example.com')).toEqual({ allowed: false, reason: 'not-a-member' });
    expect(visibleGroupDocument(record(), null)).toEqual({ allowed: false, reason: 'not-a-member' });
    const open = visibleGroupDocument(record('anyone'), 'sip:stranger@example.com');
    expect(open.allowed && open.version).toBe(5);
  });

  it("applies the requester's receiving policy: stored attributes, or the one given", () => {
    const mine = visibleGroupDocument(record(), 'sip:user4@example.com');
    if (!mine.allowed) throw new Error('member refused');
    expect(resources(mine.contentType, mine.body)).toEqual([
      ['sip:user2@example.com', 'terminated'],
      ['sip:user4@example.com', 'active'],
    ]);
    const all = visibleGroupDocument(record(), 'sip:user4@example.com', ACCEPT_ALL);
    if (!all.allowed) throw new Error('member refused');
    expect(all.visibleCount).toBe(3);
    const none = visibleGroupDocument(record(), 'sip:user1@example.com', { ...ACCEPT_ALL, refuse: true });
    expect(none.allowed && none.visibleCount).toBe(0);
  });
});
