import { describe, expect, it } from 'vitest';
import type { GroupPresence, GroupPresenceMember } from '../../../schemas/generated/records.ts';
import { requesterMember, requesterView } from './requesterView.ts';

const plan = { countryCode: '351' };
const pidf = (who: string, basic: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="${who}"><tuple id="t1"><status><basic>${basic}</basic></status></tuple><note>hello</note></presence>`;

function member(uri: string, subscriber: string, role: string, over: Partial<GroupPresenceMember> = {}): GroupPresenceMember {
  return { subscriber, uri, role, displayName: null, attributes: {}, share: null, sharedParts: [], basic: 'open', pidf: pidf(uri, 'open'), ...over };
}

function record(over: Partial<GroupPresence> = {}): GroupPresence {
  return {
    groupId: 'g-1',
    version: 7,
    memberCount: 4,
    availableCount: 2,
    contentType: 'multipart/related',
    document: '',
    updatedAt: 1_700_000_000_000,
    uri: 'sip:team@groups.example.net',
    name: 'Team',
    adminPolicy: 'members-only',
    groupInfo: '<group-info/>',
    members: [
      member('sip:+351910000001@ims.example.net;user=phone', 'msisdn:+351910000001', 'dispatcher', { attributes: { 'receive-roles': 'same' } }),
      member('sip:bob@example.com', 'aor:sip:bob@example.com', 'driver'),
      member('sip:carol@example.com', 'aor:sip:carol@example.com', 'dispatcher'),
      // refuses: its presence never left the processor
      member('sip:dave@example.com', 'aor:sip:dave@example.com', 'driver', { share: false, basic: null, pidf: null }),
    ],
    ...over,
  };
}

describe('group presence as one requester may see it', () => {
  it('an outsider of a members-only group is refused; of an anyone group sees every member as the group may', () => {
    expect(requesterView(record(), 'sip:eve@example.com', plan)).toEqual({ allowed: false, reason: 'not-a-member' });
    const v = requesterView(record({ adminPolicy: 'anyone' }), 'sip:eve@example.com', plan);
    expect(v.allowed).toBe(true);
    if (!v.allowed) return;
    expect(v.member).toBeUndefined();
    expect(v.members.map((m) => [m.uri, m.state])).toEqual([
      ['sip:+351910000001@ims.example.net;user=phone', 'active'],
      ['sip:bob@example.com', 'active'],
      ['sip:carol@example.com', 'active'],
      ['sip:dave@example.com', 'terminated'],
    ]);
  });

  it('a member who refuses is listed terminated (rejected) without presence', () => {
    const v = requesterView(record(), 'sip:bob@example.com', plan);
    if (!v.allowed) throw new Error('bob is a member');
    const dave = v.members.find((m) => m.uri === 'sip:dave@example.com')!;
    expect(dave).toMatchObject({ state: 'terminated', reason: 'rejected', pidf: null });
    expect(v.document.body).not.toContain('entity="sip:dave@example.com"');
    expect(v.document.contentType).toMatch(/^multipart\/related;type="application\/rlmi\+xml"/);
    expect(v.document.body).toContain('version="7"');
  });

  it("a receiving filter by role (receive-roles=same) keeps only members of the requester's role, found by tel: URI too", () => {
    for (const who of ['sip:+351910000001@ims.example.net;user=phone', 'tel:+351910000001']) {
      const v = requesterView(record(), who, plan);
      if (!v.allowed) throw new Error(`${who} is a member`);
      expect(v.member?.subscriber).toBe('msisdn:+351910000001');
      expect(v.members.map((m) => m.uri)).toEqual(['sip:+351910000001@ims.example.net;user=phone', 'sip:carol@example.com']);
      expect(v.document.body).toContain('entity="sip:carol@example.com"');
      expect(v.document.body).not.toContain('entity="sip:bob@example.com"');
    }
  });

  it('a member known to the directory under another identity is found by its key', () => {
    expect(requesterMember(record(), 'sip:alice@ims.example.net', plan)).toBeUndefined();
    expect(requesterMember(record(), 'sip:alice@ims.example.net', plan, 'msisdn:+351910000001')?.role).toBe('dispatcher');
  });
});
