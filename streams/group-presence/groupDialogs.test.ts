import { describe, expect, it } from 'vitest';
import { parseMultipart } from '../../presence-document/multipart.ts';
import { parsePidf } from '../../presence-document/parse.ts';
import { parseRlmi } from '../../presence-document/rlmi.ts';
import type { GroupPresenceState, NotifyRequest } from '../../schemas/generated/records.ts';
import { applyGroupDeliveryReport, applyGroupSubscribe, expireGroupDialogs, notifyGroupChange } from './groupDialogs.ts';
import { applyGroup, applyMemberPresence, memberIndex, newGroupState } from './groupState.ts';
import { groupView } from './groupView.ts';
import { group, member, presenceOf, subscribe } from '../../test/support/groupRecords.ts';

const T0 = 1_700_000_000_000;

function decodeNotify(n: NotifyRequest) {
  const boundary = /boundary="([^"]+)"/.exec(n.contentType!)![1]!;
  const parts = parseMultipart(Buffer.from(n.body!), boundary);
  const rlmi = parseRlmi(parts[0]!.body);
  const pidfByCid = new Map(parts.filter((p) => p.contentType === 'application/pidf+xml').map((p) => [p.contentId, parsePidf(p.body)]));
  return {
    rlmi,
    hasInfo: parts.some((p) => p.contentType.includes('group-info')),
    resources: Object.fromEntries(
      rlmi.resources.map((r) => [
        r.uri,
        { ...r.instances[0]!, basic: r.instances[0]!.cid ? pidfByCid.get(r.instances[0]!.cid)?.services[0]?.basic : undefined },
      ]),
    ),
  };
}

function setup(members = [member(1), member(2), member(3)], o: Parameters<typeof group>[1] = {}) {
  const st: GroupPresenceState = newGroupState('g1', T0);
  const res = applyGroup(st, group(members, o), T0);
  return { st, res };
}

const change = (st: GroupPresenceState, kind: 'info' | 'presence') => notifyGroupChange(st, groupView(st), kind, T0 + 1000, null);

describe('group state', () => {
  it('emits joins for new members and leaves for removed ones, keeping presence of those who stay', () => {
    const { st, res } = setup();
    expect(res.memberships.map((m) => [m.subscriber, m.member])).toEqual([
      [member(1).subscriber, true],
      [member(2).subscriber, true],
      [member(3).subscriber, true],
    ]);
    applyMemberPresence(st, memberIndex(st), presenceOf(member(1), 'open', 5), T0);
    const next = applyGroup(st, group([member(1), member(4)], { version: 2 }), T0);
    expect(next.infoChanged).toBe(true);
    expect(next.memberships.map((m) => [m.subscriber, m.member])).toEqual([
      [member(4).subscriber, true],
      [member(2).subscriber, false],
      [member(3).subscriber, false],
    ]);
    expect(st.members.find((m) => m.subscriber === member(1).subscriber)!.basic).toBe('open');
    expect(applyGroup(st, group([member(9)], { version: 1 }), T0).memberships).toEqual([]); // older version ignored
    expect(applyGroup(st, group([member(1), member(4)], { version: 2 }), T0).infoChanged).toBe(false); // replay: no change
  });

  it('ignores presence of non-members and older presence versions', () => {
    const { st } = setup();
    const idx = memberIndex(st);
    expect(applyMemberPresence(st, idx, presenceOf(member(7), 'open', 1), T0)).toBe(false);
    expect(applyMemberPresence(st, idx, presenceOf(member(1), 'open', 3), T0)).toBe(true);
    expect(applyMemberPresence(st, idx, presenceOf(member(1), 'closed', 2), T0)).toBe(false);
    expect(applyMemberPresence(st, idx, presenceOf(member(1), 'open', 4), T0)).toBe(false); // same document
  });

  it('a tombstone ends the group: every member leaves', () => {
    const { st } = setup();
    const res = applyGroup(st, null, T0);
    expect(res.memberships.every((m) => !m.member)).toBe(true);
    expect(st.exists).toBe(false);
  });
});

describe('group dialogs', () => {
  it("keeps whether the watcher's Contact was vouched for: an unvouched one's NOTIFYs say so (one try, RFC 6665 §9), a refresh from its own address vouches", () => {
    const { st } = setup();
    const unvouched = applyGroupSubscribe(st, groupView(st), subscribe('sip:user1@example.com', { contactVerified: false }), T0, 'lt').notifies;
    expect(unvouched.map((n) => n.contactVerified)).toEqual([false]);
    expect(change(st, 'info').map((n) => n.contactVerified)).toEqual([false]);
    const refreshed = applyGroupSubscribe(st, groupView(st), subscribe('sip:user1@example.com', { contactVerified: true, cseq: 2 }), T0 + 10, 'lt').notifies;
    expect(refreshed.map((n) => n.contactVerified)).toEqual([true]);
    const gone = applyGroupSubscribe(
      st,
      groupView(st),
      subscribe('sip:user1@example.com', { contactVerified: false, expires: 0, cseq: 3 }),
      T0 + 20,
      'lt',
    ).notifies;
    expect(gone.map((n) => n.contactVerified)).toEqual([false]);
  });

  it('full state first, then partial NOTIFYs with only what changed, versions contiguous', () => {
    const { st } = setup();
    applyMemberPresence(st, memberIndex(st), presenceOf(member(1), 'open', 1), T0);
    const first = applyGroupSubscribe(st, groupView(st), subscribe('sip:user1@example.com'), T0, 'lt').notifies;
    expect(first).toHaveLength(1);
    const full = decodeNotify(first[0]!);
    expect(full.rlmi).toMatchObject({ version: 1, fullState: true });
    expect(full.hasInfo).toBe(true);
    expect(full.resources['sip:user1@example.com']).toMatchObject({ state: 'active', basic: 'open' });
    expect(full.resources['sip:user2@example.com']).toMatchObject({ state: 'pending' });

    applyMemberPresence(st, memberIndex(st), presenceOf(member(2), 'closed', 1), T0);
    const [p1] = change(st, 'presence');
    const partial = decodeNotify(p1!);
    expect(partial.rlmi).toMatchObject({ version: 2, fullState: false });
    expect(partial.hasInfo).toBe(false);
    expect(Object.keys(partial.resources)).toEqual(['sip:user2@example.com']);
    expect(partial.resources['sip:user2@example.com']).toMatchObject({ basic: 'closed' });

    // Basic group information changed: its own notification, with the info part.
    applyGroup(st, group([member(1), member(2), member(3)], { version: 2, attributes: { topic: 'night shift' } }), T0);
    const [i1] = change(st, 'info');
    const info = decodeNotify(i1!);
    expect(info.rlmi).toMatchObject({ version: 3, fullState: false });
    expect(info.hasInfo).toBe(true);
    expect(info.resources).toEqual({});
    expect([first[0]!, p1!, i1!].map((n) => n.cseq)).toEqual([1, 2, 3]);
    expect(change(st, 'presence')).toEqual([]); // nothing new for this watcher
  });

  it('a member who refuses sharing is listed as rejected and its presence never sent', () => {
    const { st } = setup([member(1), member(2, { share: false })]);
    applyMemberPresence(st, memberIndex(st), presenceOf(member(2), 'open', 1), T0);
    const [n] = applyGroupSubscribe(st, groupView(st), subscribe('sip:user1@example.com'), T0, 'lt').notifies;
    expect(decodeNotify(n!).resources['sip:user2@example.com']).toMatchObject({ state: 'terminated', reason: 'rejected' });
    expect(n!.body).not.toContain('entity="pres:user2@example.com"'); // no PIDF of user2
    applyMemberPresence(st, memberIndex(st), presenceOf(member(2), 'closed', 2), T0);
    expect(change(st, 'presence')).toEqual([]);
  });

  it('an outsider is rejected unless the administrator lets anyone subscribe', () => {
    const { st } = setup();
    const out = applyGroupSubscribe(st, groupView(st), subscribe('sip:stranger@example.com'), T0, 'lt');
    expect(out.refused).toBe('not-a-member');
    expect(out.notifies[0]).toMatchObject({ subscriptionState: 'terminated', reason: 'rejected', body: null });
    expect(st.watchers).toHaveLength(0);
    applyGroup(st, group([member(1), member(2), member(3)], { version: 2, adminPolicy: 'anyone' }), T0);
    expect(applyGroupSubscribe(st, groupView(st), subscribe('sip:stranger@example.com', { cseq: 2 }), T0, 'lt').notifies[0]).toMatchObject({
      subscriptionState: 'active',
    });
    // Back to members-only: the outsider's dialog ends.
    applyGroup(st, group([member(1), member(2), member(3)], { version: 3, adminPolicy: 'members-only' }), T0);
    expect(change(st, 'info')[0]).toMatchObject({ subscriptionState: 'terminated', reason: 'rejected' });
  });

  it('receiving filter by role: the watcher sees only members with its own role', () => {
    const ms = [member(1, { role: 'driver', attributes: { 'receive-roles': 'same' } }), member(2, { role: 'driver' }), member(3, { role: 'dispatcher' })];
    const { st } = setup(ms);
    for (const m of ms) applyMemberPresence(st, memberIndex(st), presenceOf(m, 'open', 1), T0);
    const [n] = applyGroupSubscribe(st, groupView(st), subscribe('sip:user1@example.com'), T0, 'lt').notifies;
    expect(Object.keys(decodeNotify(n!).resources).sort()).toEqual(['sip:user1@example.com', 'sip:user2@example.com']);
    applyMemberPresence(st, memberIndex(st), presenceOf(ms[2]!, 'closed', 2), T0);
    expect(change(st, 'presence')).toEqual([]); // the dispatcher's change is not for this watcher
  });

  it('a SUBSCRIBE filter (RFC 4661) overrides the API policy; a filter it cannot honour ends the dialog', () => {
    const { st } = setup([member(1, { attributes: { receive: 'refuse' } }), member(2), member(3)]);
    const body = Buffer.from('<filter-set xmlns="urn:ietf:params:xml:ns:simple-filter"><filter id="f" uri="sip:user3@example.com"/></filter-set>');
    const [n] = applyGroupSubscribe(st, groupView(st), subscribe('sip:user1@example.com', { body }), T0, 'lt').notifies;
    expect(Object.keys(decodeNotify(n!).resources)).toEqual(['sip:user3@example.com']);
    const bad = applyGroupSubscribe(
      st,
      groupView(st),
      subscribe('sip:user2@example.com', {
        body: Buffer.from('<filter-set xmlns="urn:ietf:params:xml:ns:simple-filter"><filter id="f"><what><include>/x/y</include></what></filter></filter-set>'),
      }),
      T0,
      'lt',
    );
    expect(bad.refused).toBe('bad-filter');
    expect(bad.notifies[0]).toMatchObject({ subscriptionState: 'terminated', reason: 'rejected' });
  });

  it('a member who refuses receiving gets the group information but no member presence', () => {
    const { st } = setup([member(1, { attributes: { receive: 'refuse' } }), member(2)]);
    applyMemberPresence(st, memberIndex(st), presenceOf(member(2), 'open', 1), T0);
    const [n] = applyGroupSubscribe(st, groupView(st), subscribe('sip:user1@example.com'), T0, 'lt').notifies;
    const d = decodeNotify(n!);
    expect(d.hasInfo).toBe(true);
    expect(d.resources).toEqual({});
  });

  it('members who leave are reported terminated (noresource); a later member gets the kept presence (Action 508)', () => {
    const { st } = setup();
    applyMemberPresence(st, memberIndex(st), presenceOf(member(3), 'open', 1), T0);
    applyGroupSubscribe(st, groupView(st), subscribe('sip:user1@example.com'), T0, 'lt');
    applyGroup(st, group([member(1), member(2)], { version: 2 }), T0);
    const [n] = change(st, 'info');
    expect(decodeNotify(n!).resources['sip:user3@example.com']).toMatchObject({ state: 'terminated', reason: 'noresource' });
    // user2 subscribes later and receives user1's presence that arrived before.
    applyMemberPresence(st, memberIndex(st), presenceOf(member(1), 'open', 1), T0);
    change(st, 'presence');
    const [late] = applyGroupSubscribe(st, groupView(st), subscribe('sip:user2@example.com'), T0, 'lt').notifies;
    expect(decodeNotify(late!).resources['sip:user1@example.com']).toMatchObject({ state: 'active', basic: 'open' });
  });

  it("a refresh on a new flow (NAT rebinding) moves the group dialog's NOTIFYs to it", () => {
    const { st } = setup();
    const flow = (t: string) => `<sip:${t}.mac@10.0.0.1:5060;lr;flow=udp>`;
    applyGroupSubscribe(st, groupView(st), subscribe('sip:user1@example.com', { routeSet: [flow('a')] }), T0, 'lt');
    const [r] = applyGroupSubscribe(st, groupView(st), subscribe('sip:user1@example.com', { cseq: 2, routeSet: [flow('b')] }), T0, 'lt').notifies;
    expect(r!.routeSet).toEqual([flow('b')]);
  });

  it('refresh gets full state, Expires: 0 ends it, expiry and delivery failure end dialogs', () => {
    const { st } = setup();
    applyGroupSubscribe(st, groupView(st), subscribe('sip:user1@example.com'), T0, 'lt');
    const [r] = applyGroupSubscribe(st, groupView(st), subscribe('sip:user1@example.com', { cseq: 2, expires: 60 }), T0, 'lt').notifies;
    expect(decodeNotify(r!).rlmi).toMatchObject({ version: 2, fullState: true });
    expect(applyGroupSubscribe(st, groupView(st), subscribe('sip:user1@example.com', { cseq: 2 }), T0, 'lt').notifies).toEqual([]); // repeated
    expect(expireGroupDialogs(st, T0 + 59_000)).toEqual([]);
    expect(expireGroupDialogs(st, T0 + 60_000)[0]).toMatchObject({ subscriptionState: 'terminated', reason: 'timeout', version: 3 });
    applyGroupSubscribe(st, groupView(st), subscribe('sip:user2@example.com'), T0, 'lt');
    const [end] = applyGroupSubscribe(st, groupView(st), subscribe('sip:user2@example.com', { cseq: 2, expires: 0 }), T0, 'lt').notifies;
    expect(end).toMatchObject({ subscriptionState: 'terminated', version: 2 });
    applyGroupSubscribe(st, groupView(st), subscribe('sip:user3@example.com'), T0, 'lt');
    expect(
      applyGroupDeliveryReport(st, {
        notifyId: 'x',
        presentity: 'group:g1',
        callId: 'call-sip:user3@example.com',
        outcome: 'gone',
        statusCode: 481,
        attempts: 1,
        reason: null,
        time: T0,
        transport: null,
      }),
    ).toBe(true);
    expect(st.watchers).toHaveLength(0);
    // A final refusal (403 without Retry-After) ends it too (RFC 6665 4.2.2); a delivery does not.
    applyGroupSubscribe(st, groupView(st), subscribe('sip:user3@example.com', { cseq: 5 }), T0, 'lt');
    expect(
      applyGroupDeliveryReport(st, {
        notifyId: 'y',
        presentity: 'group:g1',
        callId: 'call-sip:user3@example.com',
        outcome: 'delivered',
        statusCode: 200,
        attempts: 1,
        reason: null,
        time: T0,
        transport: null,
      }),
    ).toBe(false);
    expect(
      applyGroupDeliveryReport(st, {
        notifyId: 'z',
        presentity: 'group:g1',
        callId: 'call-sip:user3@example.com',
        outcome: 'rejected',
        statusCode: 403,
        attempts: 1,
        reason: null,
        time: T0,
        transport: null,
      }),
    ).toBe(true);
    expect(st.watchers).toHaveLength(0);
  });

  it('a report of an older NOTIFY, or of another dialog on the same Call-ID, does not end a live dialog', () => {
    const { st } = setup();
    const report = (notifyId: string, outcome: string, statusCode: number | null) => ({
      notifyId,
      presentity: 'group:g1',
      callId: 'call-sip:user1@example.com',
      outcome,
      statusCode,
      attempts: 1,
      reason: null,
      time: T0,
      transport: null,
    });
    const [first] = applyGroupSubscribe(st, groupView(st), subscribe('sip:user1@example.com'), T0, 'lt').notifies;
    const [second] = applyGroupSubscribe(st, groupView(st), subscribe('sip:user1@example.com', { cseq: 2 }), T0, 'lt').notifies;
    // A forked SUBSCRIBE: same Call-ID, another watcher tag, its own dialog (RFC 6665 4.1.2.4).
    applyGroupSubscribe(st, groupView(st), subscribe('sip:user1@example.com', { watcherTag: 'wt2' }), T0, 'lt');
    expect(second!.notifyId).toBe('call-sip:user1@example.com/wt/2');
    // The sink re-sent CSeq 1 after a restart and gave up on it: CSeq 2 was issued since, its own report decides.
    expect(applyGroupDeliveryReport(st, report(first!.notifyId, 'gave-up', null))).toBe(false);
    expect(applyGroupDeliveryReport(st, report(first!.notifyId, 'rejected', 500))).toBe(false);
    expect(st.watchers.map((w) => w.remoteTag).sort()).toEqual(['wt', 'wt2']);
    // The latest NOTIFY of dialog wt gave up: only that dialog ends, the fork stays.
    expect(applyGroupDeliveryReport(st, report(second!.notifyId, 'gave-up', null))).toBe(true);
    const live = () => st.watchers.filter((w) => !w.ended).map((w) => w.remoteTag);
    expect(live()).toEqual(['wt2']);
    // The same report again (delivered twice by the sink's at-least-once reports): nothing more ends.
    expect(applyGroupDeliveryReport(st, report(second!.notifyId, 'gave-up', null))).toBe(false);
    expect(live()).toEqual(['wt2']);
    // The live fork's later NOTIFYs still go out, the ended dialog gets none.
    expect(change(st, 'info').map((n) => n.notifyId)).toEqual(['call-sip:user1@example.com/wt2/2']);
    // The cut-off watcher refreshes: its dialog goes on at CSeq 3, not 1 (a strict UA answers 500 to a CSeq it has seen).
    const [again] = applyGroupSubscribe(st, groupView(st), subscribe('sip:user1@example.com', { cseq: 3 }), T0, 'lt').notifies;
    expect(again).toMatchObject({ notifyId: 'call-sip:user1@example.com/wt/3', subscriptionState: 'active' });
    expect(decodeNotify(again!).rlmi).toMatchObject({ version: 3, fullState: true });
    expect(live().sort()).toEqual(['wt', 'wt2']);
  });

  it('an ended group dialog expires without a NOTIFY', () => {
    const { st } = setup();
    const [n] = applyGroupSubscribe(st, groupView(st), subscribe('sip:user1@example.com', { expires: 60 }), T0, 'lt').notifies;
    const gone = {
      notifyId: n!.notifyId,
      presentity: 'group:g1',
      callId: n!.callId,
      outcome: 'gone',
      statusCode: 481,
      attempts: 1,
      reason: null,
      time: T0,
      transport: null,
    };
    expect(applyGroupDeliveryReport(st, gone)).toBe(true);
    expect(notifyGroupChange(st, groupView(st), 'info', T0 + 1000, null)).toEqual([]);
    expect(expireGroupDialogs(st, T0 + 60_000)).toEqual([]);
    expect(st.watchers).toHaveLength(0);
  });

  it('examining only the changed members gives the same partial NOTIFYs as a full diff', () => {
    const ms = [
      member(1, { role: 'driver', attributes: { 'receive-roles': 'same', 'receive-parts': 'basic' } }),
      member(2, { role: 'driver' }),
      member(3, { role: 'dispatcher' }),
      member(4, { role: 'driver', share: false }),
    ];
    const one = setup(ms).st;
    const two = setup(ms).st;
    for (const st of [one, two]) {
      for (const m of ms) applyMemberPresence(st, memberIndex(st), presenceOf(m, 'open', 1), T0);
      applyGroupSubscribe(st, groupView(st), subscribe('sip:user1@example.com'), T0, 'lt');
      applyGroupSubscribe(st, groupView(st), subscribe('sip:user3@example.com'), T0, 'lt');
    }
    for (const [k, who] of [
      [2, 1],
      [3, 2],
      [4, 3],
      [5, 4],
    ] as const) {
      for (const st of [one, two]) applyMemberPresence(st, memberIndex(st), presenceOf(ms[who - 1]!, k % 2 ? 'open' : 'closed', k), T0);
      const full = notifyGroupChange(one, groupView(one), 'presence', T0, null);
      const partial = notifyGroupChange(two, groupView(two), 'presence', T0, null, new Set([ms[who - 1]!.subscriber]));
      expect(partial).toEqual(full);
    }
    expect(one.watchers).toEqual(two.watchers);
  });

  it('a deleted group ends its dialogs with noresource', () => {
    const { st } = setup();
    applyGroupSubscribe(st, groupView(st), subscribe('sip:user1@example.com'), T0, 'lt');
    applyGroup(st, null, T0);
    expect(change(st, 'info')).toMatchObject([{ subscriptionState: 'terminated', reason: 'noresource', version: 2 }]);
    expect(st.watchers).toHaveLength(0);
  });

  it('a SUBSCRIBE to an unknown group ends with noresource', () => {
    const st = newGroupState('nope', T0);
    expect(applyGroupSubscribe(st, groupView(st), subscribe('sip:user1@example.com'), T0, 'lt')).toMatchObject({
      refused: 'no-such-group',
      notifies: [{ subscriptionState: 'terminated', reason: 'noresource' }],
    });
  });
});

describe('information and presence changes in one pass', () => {
  it('sends them as separate notifications: information first without the changed presence, then the presence', () => {
    const { st } = setup([member(1), member(2)]);
    applyMemberPresence(st, memberIndex(st), presenceOf(member(1), 'open', 1), T0);
    applyGroupSubscribe(st, groupView(st), subscribe(member(2).uri), T0, 'lt');
    // The group's attributes change and a new member 3 joins, then members 1 and 3 report presence (same batch).
    applyGroup(st, group([member(1), member(2), member(3)], { version: 2, attributes: { topic: 'night' } }), T0);
    const idx = memberIndex(st);
    applyMemberPresence(st, idx, presenceOf(member(1), 'closed', 2), T0);
    applyMemberPresence(st, idx, presenceOf(member(3), 'open', 1), T0);
    const changed = new Set([member(1).subscriber, member(3).subscriber]);
    const view = groupView(st);
    const info = notifyGroupChange(st, view, 'info', T0 + 1000, null, changed).map(decodeNotify);
    const presence = notifyGroupChange(st, view, 'presence', T0 + 1000, null, changed).map(decodeNotify);
    expect(info).toHaveLength(1);
    expect(info[0]!.hasInfo).toBe(true);
    expect(info[0]!.resources).toEqual({});
    expect(presence).toHaveLength(1);
    expect(presence[0]!.hasInfo).toBe(false);
    expect(presence[0]!.rlmi.version).toBe(info[0]!.rlmi.version + 1);
    expect(presence[0]!.resources).toMatchObject({
      [member(1).uri]: { state: 'active', basic: 'closed' },
      [member(3).uri]: { state: 'active', basic: 'open' },
    });
  });
});

describe('a change after a dialog expired', () => {
  it('ends the expired dialog with timeout instead of sending it an active NOTIFY', () => {
    const { st } = setup([member(1), member(2)]);
    applyGroupSubscribe(st, groupView(st), subscribe(member(2).uri, { expires: 60 }), T0, 'lt');
    applyMemberPresence(st, memberIndex(st), presenceOf(member(1), 'open', 1), T0);
    const ns = notifyGroupChange(st, groupView(st), 'presence', T0 + 61_000, null, new Set([member(1).subscriber]));
    expect(ns).toHaveLength(1);
    expect(ns[0]).toMatchObject({ subscriptionState: 'terminated', reason: 'timeout', body: null });
    expect(st.watchers).toHaveLength(0);
  });
});

describe('a member subscribing by another form of its number', () => {
  it('is the member (admitted, its receiving policy applied) when it writes tel:+E164 for a user=phone member URI', () => {
    const phone = member(2, { uri: 'sip:+351910000002@ims.example.net;user=phone', role: 'driver', attributes: { 'receive-roles': 'same' } });
    const { st } = setup([member(1, { role: 'dispatcher' }), phone]);
    applyMemberPresence(st, memberIndex(st), presenceOf(member(1), 'open', 1), T0);
    const res = applyGroupSubscribe(st, groupView(st), subscribe('tel:+351910000002'), T0, 'lt');
    expect(res.refused).toBeUndefined();
    expect(res.notifies[0]).toMatchObject({ subscriptionState: 'active', toUri: 'tel:+351910000002' });
    // receive-roles=same: the dispatcher is not listed for this driver.
    expect(decodeNotify(res.notifies[0]!).resources).toEqual({ [phone.uri]: { state: 'pending', id: expect.any(String) } });
  });
});

describe('a deleted group', () => {
  it('ignores a replay of a version from before its deletion, and takes a new incarnation (higher version)', () => {
    const { st } = setup([member(1)]);
    applyGroup(st, null, T0);
    // The outbox relay republishes at least once: the old version after the tombstone must not resurrect the group.
    expect(applyGroup(st, group([member(1)], { version: 1 }), T0)).toEqual({ infoChanged: false, memberships: [] });
    expect(st.exists).toBe(false);
    expect(applyGroup(st, group([member(2)], { version: 5 }), T0).infoChanged).toBe(true);
    expect(st.exists).toBe(true);
  });
});

describe('a stored filter this release no longer accepts', () => {
  it('narrows the watcher to the group information instead of throwing on every change', () => {
    const { st } = setup([member(1), member(2)]);
    applyGroupSubscribe(st, groupView(st), subscribe(member(2).uri), T0, 'lt');
    st.watchers[0]!.filter = '<filter-set xmlns="urn:ietf:params:xml:ns:simple-filter"><filter id="1" domain="example.com"/></filter-set>';
    applyMemberPresence(st, memberIndex(st), presenceOf(member(1), 'open', 1), T0);
    expect(() => notifyGroupChange(st, groupView(st), 'info', T0 + 1000, null)).not.toThrow();
  });
});
