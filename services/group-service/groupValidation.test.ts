// Validation of establishment requests (Huawei Action 502: the format of the
// request decides whether the group is established) and of member/patch bodies.
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { checkGroupUri, checkMemberIdentity, parseGroupPatch, parseIfMatch, parseMemberSettings, parseNewGroup, ValidationError } from './groupValidation.ts';
import { keyToUri, memberResolver } from './memberResolver.ts';

/** The field a ValidationError names. */
function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err.field;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

describe('establishment request (POST /groups)', () => {
  it('a valid request with members gets defaults and a canonical group URI', () => {
    const g = parseNewGroup({
      uri: 'sips:Friends@Groups.Example.COM;transport=tls',
      name: '  Friends  ',
      members: [
        { uri: 'tel:+351910000001', role: 'admin' },
        { uri: 'sip:bob@example.com', share: false },
      ],
    });
    expect(g).toEqual({
      id: undefined,
      uri: 'sip:Friends@groups.example.com',
      name: 'Friends',
      attributes: {},
      adminPolicy: 'members-only',
      members: [
        { identity: 'tel:+351910000001', role: 'admin', displayName: null, attributes: {}, share: true, sharedParts: [] },
        { identity: 'sip:bob@example.com', role: null, displayName: null, attributes: {}, share: false, sharedParts: [] },
      ],
    });
  });

  it('names the bad field', () => {
    expect(fieldOf(() => parseNewGroup([]))).toBe('body');
    expect(fieldOf(() => parseNewGroup({ name: 'x' }))).toBe('uri');
    expect(fieldOf(() => parseNewGroup({ uri: 'sip:a@b.c' }))).toBe('name');
    expect(fieldOf(() => parseNewGroup({ uri: 'mailto:a@b.c', name: 'x' }))).toBe('uri');
    expect(fieldOf(() => parseNewGroup({ uri: 'sip:b.c', name: 'x' }))).toBe('uri');
    expect(fieldOf(() => parseNewGroup({ uri: 'sip:a@b.c', name: '   ' }))).toBe('name');
    expect(fieldOf(() => parseNewGroup({ uri: 'sip:a@b.c', name: 'x'.repeat(201) }))).toBe('name');
    expect(fieldOf(() => parseNewGroup({ uri: 'sip:a@b.c', name: 'a\u0000b' }))).toBe('name');
    expect(fieldOf(() => parseNewGroup({ uri: 'sip:a@b.c', name: 'x', colour: 'red' }))).toBe('colour');
    expect(fieldOf(() => parseNewGroup({ uri: 'sip:a@b.c', name: 'x', id: 'has space' }))).toBe('id');
    expect(fieldOf(() => parseNewGroup({ uri: 'sip:a@b.c', name: 'x', id: 7 }))).toBe('id');
    expect(fieldOf(() => parseNewGroup({ uri: 'sip:a@b.c', name: 'x', adminPolicy: 'everyone' }))).toBe('adminPolicy');
    expect(fieldOf(() => parseNewGroup({ uri: 'sip:a@b.c', name: 'x', attributes: { topic: 3 } }))).toBe('attributes.topic');
    expect(fieldOf(() => parseNewGroup({ uri: 'sip:a@b.c', name: 'x', attributes: { 'bad key': 'v' } }))).toBe('attributes.bad key');
    expect(fieldOf(() => parseNewGroup({ uri: 'sip:a@b.c', name: 'x', attributes: ['a'] }))).toBe('attributes');
    expect(fieldOf(() => parseNewGroup({ uri: 'sip:a@b.c', name: 'x', members: {} }))).toBe('members');
    expect(fieldOf(() => parseNewGroup({ uri: 'sip:a@b.c', name: 'x', members: [{ role: 'admin' }] }))).toBe('members[0].uri');
    expect(fieldOf(() => parseNewGroup({ uri: 'sip:a@b.c', name: 'x', members: [{ uri: 'sip:a@b.c' }, { uri: 'http://x' }] }))).toBe('members[1].uri');
    expect(fieldOf(() => parseNewGroup({ uri: 'sip:a@b.c', name: 'x', members: [{ uri: 'sip:a@b.c', share: 'yes' }] }))).toBe('members[0].share');
    expect(fieldOf(() => parseNewGroup({ uri: 'sip:a@b.c', name: 'x', members: [{ uri: 'sip:a@b.c', sharedParts: ['mood'] }] }))).toBe(
      'members[0].sharedParts[0]',
    );
    expect(fieldOf(() => parseNewGroup({ uri: 'sip:a@b.c', name: 'x', members: [{ uri: 'sip:a@b.c', nick: 'a' }] }))).toBe('members[0].nick');
    expect(fieldOf(() => parseNewGroup({ uri: 'sip:a@b.c', name: 'x', members: Array.from({ length: 1001 }, () => ({ uri: 'sip:a@b.c' })) }))).toBe('members');
  });

  it('group URIs: sips folded into sip, host lower-cased, parameters dropped', () => {
    expect(checkGroupUri('sip:team-7@Groups.example.net:5061;transport=tcp')).toBe('sip:team-7@groups.example.net');
    expect(() => checkGroupUri('tel:+351910000001')).toThrow(ValidationError);
  });
});

describe('member settings (PUT /groups/{id}/members/{member})', () => {
  it('an empty body is a member with default policy (share everything)', () => {
    expect(parseMemberSettings(undefined)).toEqual({ role: null, displayName: null, attributes: {}, share: true, sharedParts: [] });
  });
  it('sharedParts kept in canonical order; duplicates and unknown parts refused', () => {
    expect(parseMemberSettings({ sharedParts: ['note', 'basic'] }).sharedParts).toEqual(['basic', 'note']);
    expect(fieldOf(() => parseMemberSettings({ sharedParts: ['basic', 'basic'] }))).toBe('sharedParts[1]');
    expect(fieldOf(() => parseMemberSettings({ sharedParts: 'basic' }))).toBe('sharedParts');
    expect(fieldOf(() => parseMemberSettings({ role: 'group admin' }))).toBe('role');
    expect(fieldOf(() => parseMemberSettings({ displayName: 5 }))).toBe('displayName');
    expect(fieldOf(() => parseMemberSettings('x'))).toBe('body');
  });
});

describe('PATCH and If-Match', () => {
  it('merge patch: null removes an attribute; an empty patch is refused', () => {
    expect(parseGroupPatch({ attributes: { topic: 'golf', old: null }, version: 3 })).toEqual({ attributes: { topic: 'golf', old: null }, version: 3 });
    expect(fieldOf(() => parseGroupPatch({}))).toBe('body');
    expect(fieldOf(() => parseGroupPatch({ version: 2 }))).toBe('body');
    expect(fieldOf(() => parseGroupPatch({ uri: 'sip:x@y' }))).toBe('uri');
    expect(fieldOf(() => parseGroupPatch({ name: 'x', version: 0 }))).toBe('version');
    expect(fieldOf(() => parseGroupPatch({ name: 'x', version: '3' }))).toBe('version');
  });
  it('ETags in, versions out', () => {
    expect(parseIfMatch(undefined)).toBeUndefined();
    expect(parseIfMatch('"17"')).toBe(17);
    expect(parseIfMatch('W/"17"')).toBe(17);
    expect(parseIfMatch('*')).toBe('*');
    expect(fieldOf(() => parseIfMatch('"abc"'))).toBe('If-Match');
  });
});

describe('member identity → subscriber key (no directory)', () => {
  const s = loadSettings();
  const resolve = memberResolver({ ...s, identity: { ...s.identity, countryCode: '351' } });
  it('tel and user=phone URIs become MSISDN keys; SIP AoRs their own key; keys are accepted', async () => {
    expect(await resolve('tel:+351-910-000-001', 'm')).toEqual({ subscriber: 'msisdn:+351910000001', uri: 'tel:+351-910-000-001' });
    expect(await resolve('sip:+351910000002@ims.example.net;user=phone', 'm')).toEqual({
      subscriber: 'msisdn:+351910000002',
      uri: 'sip:+351910000002@ims.example.net;user=phone',
    });
    expect(await resolve('sip:Carol@Example.com', 'm')).toEqual({ subscriber: 'aor:sip:Carol@example.com', uri: 'sip:Carol@Example.com' });
    expect(await resolve('msisdn:+351910000003', 'm')).toEqual({ subscriber: 'msisdn:+351910000003', uri: 'tel:+351910000003' });
    expect(keyToUri('aor:sip:dave@example.com')).toBe('sip:dave@example.com');
  });
  it('refuses what cannot address a member', async () => {
    await expect(resolve('imsi:268010000000001', 'member')).rejects.toThrow(/IMSI/);
    await expect(resolve('msisdn:12', 'member')).rejects.toThrow(ValidationError);
    await expect(resolve('sip:example.com', 'member')).rejects.toThrow(ValidationError);
    await expect(resolve('tel:910000001', 'member')).rejects.toThrow(ValidationError); // no phone-context: not a global number
  });
});

describe('member identities that are not URIs (issue 13.6)', () => {
  it('refuses them with 400 naming the field; takes sip:, sips:, tel: URIs and subscriber keys', () => {
    for (const bad of [
      'sip:',
      'sip:<script>alert(1)</script>',
      'sip:alice@',
      'tel:',
      'tel:abc',
      'msisdn:12ab',
      'imsi:x',
      'aor:nonsense',
      'sip:al ice@example.com',
    ]) {
      expect(() => checkMemberIdentity(bad, 'member'), bad).toThrow(ValidationError);
    }
    for (const good of [
      'sip:alice@example.com',
      'sips:bob@example.com;transport=tls',
      'tel:+351910000001',
      'tel:1234;phone-context=example.com',
      'msisdn:+351910000001',
      'imsi:268011234567890',
      'aor:sip:alice@example.com',
    ]) {
      expect(checkMemberIdentity(good, 'member')).toBe(good);
    }
  });
});
