import { describe, expect, it } from 'vitest';
import { XMLParser } from 'fast-xml-parser';
import { parseMultipart } from '../../../presence-document/multipart.ts';
import { parsePidf } from '../../../presence-document/parse.ts';
import { parseRlmi } from '../../../presence-document/rlmi.ts';
import { pidfFor } from '../../../test/support/groupRecords.ts';
import { renderGroupDocument } from './groupDocument.ts';
import { GROUP_INFO_TYPE, renderGroupInfo } from './groupInfo.ts';

/** Splits a body the way a watcher would: boundary and start from the Content-Type. */
function split(contentType: string, body: string) {
  const boundary = /boundary="([^"]+)"/.exec(contentType)![1]!;
  const start = /start="<([^>]+)>"/.exec(contentType)![1]!;
  return { start, parts: parseMultipart(Buffer.from(body), boundary) };
}

const info = renderGroupInfo({
  uri: 'sip:team@groups.example.com',
  name: 'Team & Co',
  version: 3,
  attributes: { topic: 'ops' },
  members: [
    { uri: 'sip:a@example.com', role: 'lead', displayName: 'A', attributes: { desk: '4', receive: 'refuse' } },
    { uri: 'sip:b@example.com', role: null, displayName: null, attributes: {} },
  ],
});

describe('group presence body (RFC 4662 multipart/related)', () => {
  const doc = renderGroupDocument({
    groupId: 'g1',
    groupUri: 'sip:team@groups.example.com',
    groupName: 'Team & Co',
    version: 7,
    fullState: true,
    groupInfo: info,
    members: [
      { subscriber: 's1', uri: 'sip:a@example.com', displayName: 'A', role: 'lead', state: 'active', reason: null, pidf: pidfFor('a', 'open') },
      { subscriber: 's2', uri: 'sip:b@example.com', displayName: null, role: null, state: 'terminated', reason: 'rejected', pidf: null },
      { subscriber: 's3', uri: 'sip:c@example.com', displayName: null, role: null, state: 'pending', reason: null, pidf: null },
    ],
    removed: [{ uri: 'sip:gone@example.com', reason: 'noresource' }],
  });

  it('has the RLMI root first (start), then group information, then one PIDF per visible member', () => {
    expect(doc.contentType).toMatch(/^multipart\/related;type="application\/rlmi\+xml";start="<[^>]+>";boundary="[^"]+"$/);
    const { start, parts } = split(doc.contentType, doc.body);
    expect(parts.map((p) => p.contentType)).toEqual(['application/rlmi+xml', GROUP_INFO_TYPE, 'application/pidf+xml']);
    expect(parts[0]!.contentId).toBe(start);
    expect(parsePidf(parts[2]!.body).services[0]!.basic).toBe('open');
  });

  it('lists every resource with its instance state and the cid of its PIDF part', () => {
    const { parts } = split(doc.contentType, doc.body);
    const list = parseRlmi(parts[0]!.body);
    expect(list).toMatchObject({ uri: 'sip:team@groups.example.com', version: 7, fullState: true, names: ['Team & Co'] });
    const byUri = Object.fromEntries(list.resources.map((r) => [r.uri, r.instances[0]!]));
    expect(byUri['sip:a@example.com']).toMatchObject({ state: 'active', cid: parts[2]!.contentId });
    expect(byUri['sip:b@example.com']).toMatchObject({ state: 'terminated', reason: 'rejected' });
    expect(byUri['sip:c@example.com']).toMatchObject({ state: 'pending' });
    expect(byUri['sip:gone@example.com']).toMatchObject({ state: 'terminated', reason: 'noresource' });
  });

  it("carries group attributes and member list, but not members' receiving policies", () => {
    const { parts } = split(doc.contentType, doc.body);
    const x = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(parts[1]!.body.toString());
    expect(x.group.uri).toBe('sip:team@groups.example.com');
    expect(x.group.name).toBe('Team & Co');
    expect(x.group.member.map((m: { uri: string }) => m.uri)).toEqual(['sip:a@example.com', 'sip:b@example.com']);
    expect(parts[1]!.body.toString()).toContain('desk');
    expect(parts[1]!.body.toString()).not.toContain('refuse');
  });

  it('renders a partial notification without the group information part', () => {
    const partial = renderGroupDocument({
      groupId: 'g1',
      groupUri: 'sip:team@groups.example.com',
      groupName: 'Team',
      version: 8,
      fullState: false,
      groupInfo: null,
      members: [],
      removed: [],
    });
    const { parts } = split(partial.contentType, partial.body);
    expect(parts).toHaveLength(1);
    expect(parseRlmi(parts[0]!.body)).toMatchObject({ version: 8, fullState: false, resources: [] });
  });
});
