import { describe, expect, it } from 'vitest';
import type { Group } from '../schemas/generated/records.ts';
import { GroupRouter, GroupTable, groupIdOf, groupPresentity, isMember, notGroupUris, uriKey } from './groupRoutes.ts';
import { decide, presentityKey } from './subscribeHandler.ts';
import { handlerContext, plan, sipRequest } from '../test/support/frontEndRequests.ts';

const GROUP_URI = 'sip:friends@groups.example.net';
const ctx = handlerContext;

function group(over: Partial<Group> = {}): Group {
  return {
    groupId: 'g-1',
    version: 3,
    uri: GROUP_URI,
    name: 'Friends',
    attributes: {},
    members: [
      { subscriber: 'msisdn:+351910000001', uri: 'sip:+351910000001@ims.example.net;user=phone', role: 'admin', displayName: 'A', attributes: {} },
      { subscriber: 'aor:sip:bob@example.com', uri: 'sip:bob@example.com', role: 'member', displayName: 'B', attributes: {} },
    ],
    adminPolicy: 'members-only',
    updatedAt: 1_700_000_000_000,
    ...over,
  } as Group;
}

function request(o: { ruri?: string; to?: string; from?: string; drop?: string[]; extra?: string[]; method?: string } = {}) {
  const method = o.method ?? 'SUBSCRIBE';
  const headers: Array<[string, string]> = [
    ['Via', 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1'],
    ['From', `<${o.from ?? 'sip:bob@example.com'}>;tag=wtag`],
    ['To', o.to ?? `<${GROUP_URI}>`],
    ['Call-ID', 'call-1@127.0.0.1'],
    ['CSeq', `2 ${method}`],
    ['Contact', '<sip:bob@127.0.0.1:5070>'],
    ['Max-Forwards', '70'],
    ['Event', 'presence'],
    ['Expires', '600'],
    ['Accept', 'application/pidf+xml, application/rlmi+xml, multipart/related'],
    ['Supported', 'eventlist'],
  ];
  return sipRequest(method, o.ruri ?? GROUP_URI, headers, o);
}

function router(...groups: Group[]) {
  const t = new GroupTable(plan);
  for (const g of groups) t.apply(g.groupId, g);
  return new GroupRouter(t, plan);
}

describe('group table (from the compacted groups topic)', () => {
  it('finds a group by its URI however the URI is written; newer versions replace, older are ignored, tombstones delete', () => {
    const t = new GroupTable(plan);
    expect(t.apply('g-1', group())).toBe('added');
    expect(t.byUri('sip:friends@GROUPS.example.net;transport=tcp')?.groupId).toBe('g-1');
    expect(t.byUri('<sip:friends@groups.example.net>')?.groupId).toBe('g-1');
    expect(t.apply('g-1', group({ version: 2, name: 'old' }))).toBe('stale');
    expect(t.get('g-1')?.name).toBe('Friends');
    // A new URI moves the group: the old one no longer names it.
    expect(t.apply('g-1', group({ version: 4, uri: 'sip:pals@groups.example.net' }))).toBe('updated');
    expect(t.byUri(GROUP_URI)).toBeUndefined();
    expect(t.byUri('sip:pals@groups.example.net')?.version).toBe(4);
    expect(t.apply('g-1', null)).toBe('deleted');
    expect(t.byUri('sip:pals@groups.example.net')).toBeUndefined();
    expect(t.size).toBe(0);
    expect(t.apply('g-1', null)).toBe('ignored');
  });

  it('membership by subscriber key or by member URI', () => {
    const g = group();
    expect(isMember(g, new Set(['msisdn:+351910000001']), plan)).toBe(true);
    expect(isMember(g, new Set([uriKey('sip:bob@EXAMPLE.com;transport=udp', plan)!]), plan)).toBe(true);
    expect(isMember(g, new Set(['aor:sip:eve@example.com']), plan)).toBe(false);
  });

  it('a resolver that names no subscriber for a group URI (not proxied or PUBLISHed to as one)', async () => {
    const t = new GroupTable(plan);
    t.apply('g-1', group());
    const r = notGroupUris(t, (uri) => presentityKey(uri, plan));
    expect(await r(GROUP_URI)).toBeUndefined();
    expect(await r('sip:bob@example.com')).toBe('aor:sip:bob@example.com');
  });

  it('group presentities: group:<id>', () => {
    expect(groupPresentity('g-1')).toBe('group:g-1');
    expect(groupIdOf('group:g-1')).toBe('g-1');
    expect(groupIdOf('msisdn:+351910000001')).toBeUndefined();
    expect(groupIdOf('group:')).toBeUndefined();
  });
});

describe('SUBSCRIBE to a group URI', () => {
  it('a member with Supported: eventlist gets 200 (Expires, Contact, Require: eventlist) and a Subscription keyed by the group id, presentity group:<id>', async () => {
    const a = await router(group()).decide(request(), ctx);
    expect(a?.status).toBe(200);
    expect(a?.headers).toContainEqual(['Expires', '600']);
    expect(a?.headers).toContainEqual(['Require', 'eventlist']);
    expect(a?.record?.key).toBe('g-1');
    expect(a?.record?.value).toMatchObject({
      presentity: 'group:g-1',
      presentityUri: GROUP_URI,
      watcherUri: 'sip:bob@example.com',
      expires: 600,
      callId: 'call-1@127.0.0.1',
      watcherTag: 'wtag',
      cseq: 2,
      contact: 'sip:bob@127.0.0.1:5070',
      supported: ['eventlist'],
      localTag: 'txtag',
      frontEnd: 'fe-1',
    });
  });

  it('no Supported: eventlist → 421 Extension Required with Require: eventlist, nothing recorded', async () => {
    const a = await router(group()).decide(request({ drop: ['Supported'] }), ctx);
    expect(a).toMatchObject({ status: 421, headers: [['Require', 'eventlist']] });
    expect(a?.record).toBeUndefined();
    const b = await router(group()).decide(request({ drop: ['Supported'], extra: ['Supported: 100rel, EventList'] }), ctx);
    expect(b?.status).toBe(200);
  });

  it('a SUBSCRIBE retargeted to this front end (Request-URI names us, RFC 3261 §8.1.3.4) finds the group by To, as for a presentity', async () => {
    const own = 'sip:friends@127.0.0.1:5060';
    const a = await router(group()).decide(request({ ruri: own }), { ...ctx, isOwnUri: (u) => u === own });
    expect(a?.status).toBe(200);
    expect(a?.record?.value).toMatchObject({ presentity: 'group:g-1', presentityUri: GROUP_URI });
  });

  it('Require: eventlist without Supported is support enough (RFC 3261 §8.2.2.3: a required tag is one the client implements), not 421', async () => {
    const a = await router(group()).decide(request({ drop: ['Supported'], extra: ['Require: eventlist'] }), ctx);
    expect(a?.status).toBe(200);
  });

  it('members-only: an outsider gets 403 (but may still unsubscribe); anyone: an outsider gets 200', async () => {
    const eve = { from: 'sip:eve@example.com' };
    expect((await router(group()).decide(request(eve), ctx))?.status).toBe(403);
    expect((await router(group()).decide(request({ ...eve, drop: ['Expires'], extra: ['Expires: 0'] }), ctx))?.status).toBe(200);
    expect((await router(group({ adminPolicy: 'anyone' })).decide(request(eve), ctx))?.status).toBe(200);
    // an unknown policy value fails closed
    expect((await router(group({ adminPolicy: 'whatever' })).decide(request(eve), ctx))?.status).toBe(403);
    // a member known by a tel URI that the resolver maps to its key
    expect((await router(group()).decide(request({ from: 'tel:+351910000001' }), ctx))?.status).toBe(200);
  });

  it("members-only judges who authenticated, not the From: an outsider writing a member's From is 403, a member writing any From is 200 and recorded as itself", async () => {
    const asEve = { ...ctx, authenticated: 'sip:eve@example.com' };
    expect((await router(group()).decide(request({ from: 'sip:bob@example.com' }), asEve))?.status).toBe(403);
    const asBob = { ...ctx, authenticated: 'sip:bob@example.com' };
    const a = await router(group()).decide(request({ from: 'sip:someone@example.com' }), asBob);
    expect(a?.status).toBe(200);
    expect(a?.record?.value).toMatchObject({ watcherUri: 'sip:bob@example.com' });
  });

  it('Event: dialog (BLF on the list) → 200 and a Subscription with event dialog; its call-id parameter names nothing on a list', async () => {
    const r = router(group());
    const a = await r.decide(request({ drop: ['Event'], extra: ['Event: dialog;call-id=x@y'] }), ctx);
    expect(a?.status).toBe(200);
    expect(a?.headers).toContainEqual(['Allow-Events', 'presence, dialog']);
    expect(a?.record?.value).toMatchObject({ presentity: 'group:g-1', event: 'dialog', dialogFilter: null });
    // A phone that accepts dialog-info alone cannot read a list: 406 names what it would get.
    const single = await r.decide(request({ drop: ['Event', 'Accept'], extra: ['Event: dialog', 'Accept: application/dialog-info+xml'] }), ctx);
    expect(single).toMatchObject({ status: 406, headers: [['Accept', 'multipart/related, application/rlmi+xml, application/dialog-info+xml']] });
    // Still a list: without eventlist it is refused as for presence.
    expect((await r.decide(request({ drop: ['Event', 'Supported'], extra: ['Event: dialog'] }), ctx))?.status).toBe(421);
  });

  it('Event other than presence or dialog → 489; Accept without multipart/related → 406; Expires below min → 423', async () => {
    const r = router(group());
    const other = await r.decide(request({ drop: ['Event'], extra: ['Event: message-summary'] }), ctx);
    expect(other).toMatchObject({ status: 489, headers: [['Allow-Events', 'presence, dialog']] });
    const na = await r.decide(request({ drop: ['Accept'], extra: ['Accept: application/pidf+xml'] }), ctx);
    expect(na?.status).toBe(406);
    expect(na?.headers[0]?.[1]).toContain('multipart/related');
    const brief = await r.decide(request({ drop: ['Expires'], extra: ['Expires: 5'] }), ctx);
    expect(brief).toMatchObject({ status: 423, headers: [['Min-Expires', '60']] });
  });

  it('an in-dialog refresh names the group in To and keeps its To-tag', async () => {
    const a = await router(group()).decide(request({ ruri: 'sip:127.0.0.1:5060', to: `<${GROUP_URI}>;tag=dlg7` }), ctx);
    expect(a?.status).toBe(200);
    expect(a?.toTag).toBe('dlg7');
    expect(a?.record?.value).toMatchObject({ localTag: 'dlg7', presentity: 'group:g-1' });
  });

  it('leaves other URIs and methods to the presentity handler', async () => {
    const r = router(group());
    expect(
      await r.decide(request({ ruri: 'sip:+351910000042@ims.example.net;user=phone', to: '<sip:+351910000042@ims.example.net;user=phone>' }), ctx),
    ).toBeUndefined();
    expect(await r.decide(request({ method: 'OPTIONS' }), ctx)).toBeUndefined();
    // without the router the group URI would be treated as a subscriber AoR
    expect((await decide(request(), ctx)).record?.key).toBe('aor:sip:friends@groups.example.net');
  });
});
