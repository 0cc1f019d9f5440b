// BLF on a resource list (RFC 4662 + RFC 4235): a group watcher with Event: dialog gets RLMI
// NOTIFYs whose member parts are dialog-info documents — full state first, then only the members
// (and, in their documents, only the dialogs) that changed; each member's version contiguous.
import { describe, expect, it } from 'vitest';
import { parseMultipart } from '../../presence-document/multipart.ts';
import { parseRlmi } from '../../presence-document/rlmi.ts';
import { parseDialogInfo, type DialogEntry } from '../../presence-document/dialogInfo.ts';
import type { GroupMemberPresence, GroupPresenceState, NotifyRequest } from '../../schemas/generated/records.ts';
import { applyGroupSubscribe, notifyGroupChange } from './groupDialogs.ts';
import { applyGroup, applyMemberPresence, cloneState, memberIndex, newGroupState } from './groupState.ts';
import { groupView } from './groupView.ts';
import { group, member, presenceOf, subscribe } from '../../test/support/groupRecords.ts';

const T0 = 1_700_000_000_000;

function decode(n: NotifyRequest) {
  const boundary = /boundary="([^"]+)"/.exec(n.contentType!)![1]!;
  const parts = parseMultipart(Buffer.from(n.body!), boundary);
  const rlmi = parseRlmi(parts[0]!.body);
  const byCid = new Map(parts.slice(1).map((p) => [p.contentId, p]));
  return {
    rlmi,
    types: parts.map((p) => p.contentType),
    members: Object.fromEntries(
      rlmi.resources.map((r) => {
        const i = r.instances[0]!;
        const part = i.cid ? byCid.get(i.cid) : undefined;
        return [r.uri, { state: i.state, reason: i.reason, doc: part?.contentType === 'application/dialog-info+xml' ? parseDialogInfo(part.body) : undefined }];
      }),
    ),
  };
}

const call = (id: string, state: DialogEntry['state']): DialogEntry => ({ id, callId: `${id}@pbx`, direction: 'recipient', state });
const withCalls = (n: number, version: number, dialogs: DialogEntry[]): GroupMemberPresence => ({
  ...presenceOf(member(n), 'open', version),
  dialogs: JSON.stringify(dialogs),
});

function setup(members = [member(1), member(2), member(3)]) {
  const st: GroupPresenceState = newGroupState('g1', T0);
  applyGroup(st, group(members), T0);
  return st;
}

const presenceChange = (st: GroupPresenceState, mp: GroupMemberPresence) => {
  expect(applyMemberPresence(st, memberIndex(st), mp, T0)).toBe(true);
  return notifyGroupChange(st, groupView(st), 'presence', T0 + 1000, null, new Set([mp.subscriber]));
};

describe('BLF on a group (Event: dialog)', () => {
  it('full state: RLMI, group info, one dialog-info part per known member; a member not known yet is pending', () => {
    const st = setup();
    applyMemberPresence(st, memberIndex(st), withCalls(1, 1, [call('a', 'confirmed')]), T0);
    applyMemberPresence(st, memberIndex(st), presenceOf(member(2), 'open', 1), T0); // an older event manager: no dialogs field
    const [n] = applyGroupSubscribe(st, groupView(st), subscribe('sip:user1@example.com', { event: 'dialog' }), T0, 'lt').notifies;
    expect(n).toMatchObject({ event: 'dialog', version: 1, subscriptionState: 'active' });
    const d = decode(n!);
    expect(d.rlmi).toMatchObject({ version: 1, fullState: true });
    expect(d.types.filter((t) => t === 'application/dialog-info+xml')).toHaveLength(2);
    expect(d.types).not.toContain('application/pidf+xml');
    expect(d.members['sip:user1@example.com']).toMatchObject({ state: 'active', doc: { entity: 'sip:user1@example.com', version: 1, state: 'full' } });
    expect(d.members['sip:user1@example.com']!.doc!.dialogs.map((x) => [x.id, x.state])).toEqual([['a', 'confirmed']]);
    expect(d.members['sip:user2@example.com']!.doc).toMatchObject({ version: 1, state: 'full', dialogs: [] });
    expect(d.members['sip:user3@example.com']).toMatchObject({ state: 'pending', doc: undefined });
  });

  it('then partial: only the member whose calls changed, its document partial with only the changed dialog, its version +1', () => {
    const st = setup();
    applyMemberPresence(st, memberIndex(st), withCalls(1, 1, [call('a', 'confirmed')]), T0);
    applyMemberPresence(st, memberIndex(st), withCalls(2, 1, []), T0);
    applyGroupSubscribe(st, groupView(st), subscribe('sip:user1@example.com', { event: 'dialog' }), T0, 'lt');
    const presenceWatcher = applyGroupSubscribe(st, groupView(st), subscribe('sip:user2@example.com'), T0, 'lt2').notifies;
    expect(decode(presenceWatcher[0]!).types).toContain('application/pidf+xml'); // a presence watcher of the same group is as before

    // Member 1 gets a second call ringing; the first goes on unchanged.
    const [ring, ringP] = presenceChange(st, withCalls(1, 2, [call('a', 'confirmed'), call('b', 'early')]));
    const blf = [ring, ringP].find((n) => n!.event === 'dialog')!;
    const d = decode(blf);
    expect(d.rlmi).toMatchObject({ version: 2, fullState: false });
    expect(Object.keys(d.members)).toEqual(['sip:user1@example.com']);
    expect(d.members['sip:user1@example.com']!.doc).toMatchObject({ version: 2, state: 'partial' });
    expect(d.members['sip:user1@example.com']!.doc!.dialogs.map((x) => [x.id, x.state])).toEqual([['b', 'early']]);

    // Member 2's first call: its own version goes 1 → 2, member 1's stays where it was.
    const second = presenceChange(st, withCalls(2, 2, [call('c', 'trying')])).find((n) => n.event === 'dialog')!;
    expect(decode(second).members['sip:user2@example.com']!.doc).toMatchObject({ version: 2, state: 'partial', dialogs: [{ id: 'c', state: 'trying' }] });
    expect(second.version).toBe(3);

    // A dialog told as live vanishes (a PBX removed its publication): full state for that member.
    const gone = presenceChange(st, withCalls(1, 3, [call('b', 'confirmed')])).find((n) => n.event === 'dialog')!;
    expect(decode(gone).members['sip:user1@example.com']!.doc).toMatchObject({ version: 3, state: 'full' });
    expect(decode(gone).members['sip:user1@example.com']!.doc!.dialogs.map((x) => x.id)).toEqual(['b']);

    // A refresh: full state of the list again, every member's version going on.
    const refresh = applyGroupSubscribe(st, groupView(st), subscribe('sip:user1@example.com', { event: 'dialog', cseq: 2 }), T0 + 2000, 'lt').notifies;
    const r = decode(refresh[0]!);
    expect(r.rlmi).toMatchObject({ version: 5, fullState: true });
    expect(r.members['sip:user1@example.com']!.doc).toMatchObject({ version: 4, state: 'full' });
    expect(r.members['sip:user2@example.com']!.doc).toMatchObject({ version: 3, state: 'full' });
  });

  it('a PIDF change that leaves the calls as they were tells the BLF watcher nothing', () => {
    const st = setup();
    applyMemberPresence(st, memberIndex(st), withCalls(1, 1, [call('a', 'confirmed')]), T0);
    applyGroupSubscribe(st, groupView(st), subscribe('sip:user1@example.com', { event: 'dialog' }), T0, 'lt');
    const closed = { ...withCalls(1, 2, [call('a', 'confirmed')]), basic: 'closed', pidf: presenceOf(member(1), 'closed', 2).pidf };
    expect(presenceChange(st, closed)).toEqual([]);
  });

  it("a member that does not share its calls (shared parts without 'call') is listed as rejected, its calls never sent", () => {
    const st = setup([member(1), member(2, { sharedParts: ['basic'] })]);
    applyMemberPresence(st, memberIndex(st), withCalls(2, 1, [call('secret', 'confirmed')]), T0);
    const [n] = applyGroupSubscribe(st, groupView(st), subscribe('sip:user1@example.com', { event: 'dialog' }), T0, 'lt').notifies;
    expect(decode(n!).members['sip:user2@example.com']).toMatchObject({ state: 'terminated', reason: 'rejected', doc: undefined });
    expect(n!.body).not.toContain('secret');
  });

  it('a refused list SUBSCRIBE with Event: dialog is ended by a NOTIFY of the dialog package', () => {
    const st = setup();
    const [n] = applyGroupSubscribe(st, groupView(st), subscribe('sip:eve@example.com', { event: 'dialog' }), T0, 'lt').notifies;
    expect(n).toMatchObject({ event: 'dialog', subscriptionState: 'terminated', reason: 'rejected' });
  });

  it("the per-member versions live in the watcher's state: a batch's copy does not touch the committed one", () => {
    const st = setup();
    applyMemberPresence(st, memberIndex(st), withCalls(1, 1, []), T0);
    applyGroupSubscribe(st, groupView(st), subscribe('sip:user1@example.com', { event: 'dialog' }), T0, 'lt');
    const copy = cloneState(st);
    presenceChange(copy, withCalls(1, 2, [call('a', 'trying')]));
    expect(copy.watchers[0]!.dialogVersions['sip:user1@example.com']).toBe(2);
    expect(st.watchers[0]!.dialogVersions['sip:user1@example.com']).toBe(1);
    expect(st.watchers[0]!.event).toBe('dialog');
  });
});
