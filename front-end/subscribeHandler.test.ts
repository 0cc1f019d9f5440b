import { describe, expect, it } from 'vitest';
import type { SipMessage } from '../protocols/decode/sip/index.ts';
import { buildResponse, outgoingHeader } from '../protocols/sip/message/index.ts';
import { decide, presentityKey } from './subscribeHandler.ts';
import { checkExpiryPolicy } from './handlerContext.ts';
import { handlerContext, plan, sipRequest } from '../test/support/frontEndRequests.ts';

const ctx = handlerContext;

function request(over: { method?: string; ruri?: string; to?: string; drop?: string[]; extra?: string[]; body?: string } = {}): SipMessage {
  const method = over.method ?? 'SUBSCRIBE';
  const headers: Array<[string, string]> = [
    ['Via', 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1'],
    ['From', '"W" <sip:watcher@example.com>;tag=wtag'],
    ['To', over.to ?? '<sip:+351910000042@ims.example.net;user=phone>'],
    ['Call-ID', 'call-1@127.0.0.1'],
    ['CSeq', `7 ${method}`],
    ['Contact', '<sip:watcher@127.0.0.1:5070;transport=udp>'],
    ['Max-Forwards', '70'],
    ['Event', 'presence'],
    ['Expires', '600'],
    ['Accept', 'application/pidf+xml, application/rlmi+xml'],
    ['Supported', 'eventlist'],
  ];
  return sipRequest(method, over.ruri ?? 'sip:+351910000042@ims.example.net;user=phone', headers, over);
}

describe('presentity keys', () => {
  it('maps tel:, user=phone and SIP AoRs as the taps do; a bare host or local number is no subscriber', () => {
    expect(presentityKey('sip:+351910000042@ims.example.net;user=phone', plan)).toBe('msisdn:+351910000042');
    expect(presentityKey('tel:+351910000042', plan)).toBe('msisdn:+351910000042');
    expect(presentityKey('sip:Alice@Example.COM:5060;transport=tcp', plan)).toBe('aor:sip:Alice@example.com');
    expect(presentityKey('sip:example.com', plan)).toBeUndefined();
    expect(presentityKey('tel:1234', plan)).toBeUndefined();
    expect(presentityKey('not a uri', plan)).toBeUndefined();
  });
});

describe('SUBSCRIBE decisions', () => {
  it('accepts a presence SUBSCRIBE: 200 with Expires, To-tag and Contact, and a Subscription record for the presentity key', async () => {
    const a = await decide(request({ extra: ['Record-Route: <sip:p2.example.net;lr>, <sip:p1.example.net;lr>'] }), ctx);
    expect(a.status).toBe(200);
    expect(a.toTag).toBe('txtag');
    expect(a.headers).toContainEqual(['Expires', '600']);
    expect(a.headers).toContainEqual(['Contact', '<sip:127.0.0.1:5060>']);
    expect(a.record?.key).toBe('msisdn:+351910000042');
    expect(a.record?.value).toEqual({
      requestId: 'req-1',
      receivedAt: 1_700_000_000_000,
      presentity: 'msisdn:+351910000042',
      presentityUri: 'sip:+351910000042@ims.example.net;user=phone',
      watcherUri: 'sip:watcher@example.com',
      event: 'presence',
      expires: 600,
      callId: 'call-1@127.0.0.1',
      watcherTag: 'wtag',
      cseq: 7,
      contact: 'sip:watcher@127.0.0.1:5070;transport=udp',
      routeSet: ['<sip:p2.example.net;lr>', '<sip:p1.example.net;lr>'],
      accept: ['application/pidf+xml', 'application/rlmi+xml'],
      supported: ['eventlist'],
      body: null,
      frontEnd: 'fe-1',
      localTag: 'txtag',
      contactVerified: true, // until the front end checks the source (contactCheck.ts)
      dialogFilter: null,
    });
    // The tag the response carries is the one recorded.
    const res = buildResponse(request(), a.status, { toTag: a.toTag, headers: a.headers });
    expect(outgoingHeader(res, 'To')).toBe('<sip:+351910000042@ims.example.net;user=phone>;tag=txtag');
  });

  it('generates a To-tag when the transaction gives none, and requestIds are unique', async () => {
    const { toTag: _t, requestId: _r, ...bare } = ctx;
    const a = await decide(request(), bare);
    const b = await decide(request(), bare);
    expect(a.toTag).toMatch(/^[0-9a-f]{16}$/);
    expect(a.toTag).not.toBe(b.toTag);
    expect(a.record?.value.localTag).toBe(a.toTag);
    expect(a.record?.value.requestId).not.toBe(b.record?.value.requestId);
  });

  it('keeps the To-tag of an in-dialog refresh and takes the presentity from To (the Request-URI is our Contact)', async () => {
    const a = await decide(request({ ruri: 'sip:127.0.0.1:5060', to: '<sip:+351910000042@ims.example.net;user=phone>;tag=dlg9' }), ctx);
    expect(a.status).toBe(200);
    expect(a.toTag).toBe('dlg9');
    expect(a.record?.value).toMatchObject({
      localTag: 'dlg9',
      presentity: 'msisdn:+351910000042',
      presentityUri: 'sip:+351910000042@ims.example.net;user=phone',
    });
  });

  it('489 with Allow-Events when Event is missing or a package we do not serve', async () => {
    for (const r of [
      request({ drop: ['Event'] }),
      request({ drop: ['Event'], extra: ['Event: message-summary.winfo'] }),
      request({ drop: ['Event'], extra: ['Event: dialog.winfo'] }),
    ]) {
      const a = await decide(r, ctx);
      expect(a.status).toBe(489);
      expect(a.headers).toContainEqual(['Allow-Events', 'presence, dialog, presence.winfo, message-summary, message']);
      expect(a.record).toBeUndefined();
    }
  });

  it('presence.winfo (RFC 3857): the presentity itself gets 200 and a record; anyone else 403, nothing recorded', async () => {
    const own = {
      drop: ['Event', 'From', 'Accept'],
      extra: ['Event: presence.winfo', 'From: <tel:+351910000042>;tag=own', 'Accept: application/watcherinfo+xml'],
    };
    const a = await decide(request(own), ctx);
    expect(a.status).toBe(200);
    expect(a.record?.key).toBe('msisdn:+351910000042');
    expect(a.record?.value).toMatchObject({ event: 'presence.winfo', watcherUri: 'tel:+351910000042', watcherTag: 'own' });
    // Who authenticated decides, not the From anyone can write.
    const spoofed = await decide(request(own), { ...ctx, authenticated: 'sip:watcher@example.com' });
    expect(spoofed).toMatchObject({ status: 403 });
    expect(spoofed.record).toBeUndefined();
    const other = await decide(request({ drop: ['Event', 'Accept'], extra: ['Event: presence.winfo'] }), ctx);
    expect(other).toMatchObject({ status: 403 });
    expect(other.record).toBeUndefined();
    // It carries watcherinfo documents, not PIDF.
    const pidfOnly = await decide(request({ ...own, drop: ['Event', 'From'], extra: own.extra.slice(0, 2) }), ctx);
    expect(pidfOnly).toMatchObject({ status: 406, headers: [['Accept', 'application/watcherinfo+xml']] });
  });

  it('message-summary (RFC 3842) and message: the subscriber itself gets 200 and a record; anyone else 403; Accept checked for the summary only', async () => {
    const own = (event: string, accept?: string) => ({
      drop: ['Event', 'From', 'Accept'],
      extra: [`Event: ${event}`, 'From: <tel:+351910000042>;tag=own', ...(accept ? [`Accept: ${accept}`] : [])],
    });
    const summary = await decide(request(own('message-summary', 'application/simple-message-summary')), ctx);
    expect(summary.status).toBe(200);
    expect(summary.record?.value).toMatchObject({ event: 'message-summary', watcherUri: 'tel:+351910000042' });
    const message = await decide(request(own('message', 'text/plain, audio/*')), ctx);
    expect(message.status).toBe(200);
    expect(message.record?.value).toMatchObject({ event: 'message' });
    // Someone else's mailbox: refused, nothing recorded, whatever the From says once authenticated.
    for (const event of ['message-summary', 'message']) {
      const other = await decide(request({ drop: ['Event', 'Accept'], extra: [`Event: ${event}`] }), ctx);
      expect(other).toMatchObject({ status: 403 });
      expect(other.record).toBeUndefined();
      const spoofed = await decide(request(own(event)), { ...ctx, authenticated: 'sip:watcher@example.com' });
      expect(spoofed).toMatchObject({ status: 403 });
    }
    // A watcher that cannot read application/simple-message-summary: 406 naming it.
    const pidfOnly = await decide(request(own('message-summary', 'application/pidf+xml')), ctx);
    expect(pidfOnly).toMatchObject({ status: 406, headers: [['Accept', 'application/simple-message-summary']] });
    expect(pidfOnly.record).toBeUndefined();
  });

  it('Expires: below min → 423 with Min-Expires; above max → max; absent → default; 0 → unsubscribe; garbage → 400', async () => {
    const brief = await decide(request({ drop: ['Expires'], extra: ['Expires: 10'] }), ctx);
    expect(brief.status).toBe(423);
    expect(brief.headers).toContainEqual(['Min-Expires', '60']);
    expect(brief.record).toBeUndefined();

    const long = await decide(request({ drop: ['Expires'], extra: ['Expires: 86400'] }), ctx);
    expect(long.headers).toContainEqual(['Expires', '7200']);
    expect(long.record?.value.expires).toBe(7200);

    const none = await decide(request({ drop: ['Expires'] }), ctx);
    expect(none.headers).toContainEqual(['Expires', '3600']);
    expect(none.record?.value.expires).toBe(3600);

    const unsub = await decide(request({ drop: ['Expires'], extra: ['Expires: 0'] }), ctx);
    expect(unsub.status).toBe(200);
    expect(unsub.headers).toContainEqual(['Expires', '0']);
    expect(unsub.record?.value.expires).toBe(0);

    expect((await decide(request({ drop: ['Expires'], extra: ['Expires: soon'] }), ctx)).status).toBe(400);
  });

  it('404 when the Request-URI names no subscriber (or the resolver does not know it)', async () => {
    expect((await decide(request({ ruri: 'sip:ims.example.net' }), ctx)).status).toBe(404);
    expect((await decide(request(), { ...ctx, resolveKey: async () => undefined })).status).toBe(404);
    // A directory resolver can give the canonical key of another identity.
    const a = await decide(request(), { ...ctx, resolveKey: async () => 'imsi:268010000000042' });
    expect(a.record?.key).toBe('imsi:268010000000042');
  });

  it('406 when Accept is present without application/pidf+xml; wildcards and no Accept are fine', async () => {
    const a = await decide(request({ drop: ['Accept'], extra: ['Accept: application/xpidf+xml'] }), ctx);
    expect(a.status).toBe(406);
    expect(a.headers).toContainEqual(['Accept', 'application/pidf+xml']);
    expect((await decide(request({ drop: ['Accept'], extra: ['Accept: application/pidf+xml;q=0'] }), ctx)).status).toBe(406);
    expect((await decide(request({ drop: ['Accept'], extra: ['Accept: application/*'] }), ctx)).status).toBe(200);
    const none = await decide(request({ drop: ['Accept'] }), ctx);
    expect(none.status).toBe(200);
    expect(none.record?.value.accept).toEqual([]);
  });

  it('falls back to the From URI without Contact, and carries a filter body', async () => {
    const filter = '<filter-set xmlns="urn:ietf:params:xml:ns:simple-filter"/>';
    const a = await decide(request({ drop: ['Contact'], extra: ['Content-Type: application/simple-filter+xml'], body: filter }), ctx);
    expect(a.record?.value.contact).toBe('sip:watcher@example.com');
    expect(a.record?.value.body?.toString()).toBe(filter);
  });

  it('400 without a From-tag', async () => {
    const a = await decide(request({ drop: ['From'], extra: ['From: <sip:watcher@example.com>'] }), ctx);
    expect(a.status).toBe(400);
  });
});

describe('other methods', () => {
  it('accepts Event: dialog (RFC 4235, the busy lamp field): 200, and a Subscription of the dialog package for the presentity key', async () => {
    const dialog = (accept: string[], event = 'dialog') =>
      request({ drop: ['Event', 'Accept'], extra: [`Event: ${event}`, ...accept.map((a) => `Accept: ${a}`)] });
    const a = await decide(dialog(['application/dialog-info+xml']), ctx);
    expect(a.status).toBe(200);
    expect(a.headers).toContainEqual(['Allow-Events', 'presence, dialog, presence.winfo, message-summary, message']);
    expect(a.record?.key).toBe('msisdn:+351910000042');
    expect(a.record?.value).toMatchObject({ event: 'dialog', accept: ['application/dialog-info+xml'], expires: 600, localTag: 'txtag' });
    // include-session-description is accepted (and ignored: no SDP to include); no call-id → every dialog.
    const isd = await decide(dialog([], 'dialog;include-session-description'), ctx);
    expect(isd.record?.value).toMatchObject({ event: 'dialog', dialogFilter: null });
    expect(a.record?.value.dialogFilter).toBeNull();
    // RFC 4235 §3.2: call-id (+ tags) subscribes to that one dialog.
    const one = await decide(dialog([], 'dialog;call-id="c1@pbx.example.com";to-tag=lt;from-tag=rt'), ctx);
    expect(one.record?.value.dialogFilter).toEqual({ callId: 'c1@pbx.example.com', toTag: 'lt', fromTag: 'rt' });
    expect((await decide(dialog([], 'dialog;call-id=c2;from-tag=rt'), ctx)).record?.value.dialogFilter).toEqual({ callId: 'c2', toTag: null, fromTag: 'rt' });
    // Tags without the Call-ID name no dialog.
    const tagsOnly = await decide(dialog([], 'dialog;from-tag=rt'), ctx);
    expect(tagsOnly.status).toBe(400);
    expect(tagsOnly.record).toBeUndefined();
    // The parameters mean nothing to a presence subscription.
    const presence = await decide(request({ drop: ['Event'], extra: ['Event: presence;call-id=c3'] }), ctx);
    expect(presence.record?.value.dialogFilter).toBeNull();
    // No Accept means the package's default type (RFC 6665 §4.2.1.1).
    expect((await decide(dialog([]), ctx)).status).toBe(200);
    // A watcher that only takes PIDF cannot read dialog-info.
    const pidfOnly = await decide(dialog(['application/pidf+xml']), ctx);
    expect(pidfOnly.status).toBe(406);
    expect(pidfOnly.headers).toContainEqual(['Accept', 'application/dialog-info+xml']);
    expect(pidfOnly.record).toBeUndefined();
    // And a presence watcher still needs PIDF.
    expect((await decide(request({ drop: ['Accept'], extra: ['Accept: application/dialog-info+xml'] }), ctx)).status).toBe(406);
  });

  it('OPTIONS → 200 with Allow; PUBLISH without a publication service (publishHandler.ts) → 501; anything else → 405 with Allow', async () => {
    const o = await decide(request({ method: 'OPTIONS' }), ctx);
    expect(o.status).toBe(200);
    expect(o.headers).toContainEqual(['Allow', 'SUBSCRIBE, PUBLISH, OPTIONS']);
    expect(o.headers).toContainEqual(['Allow-Events', 'presence, dialog, presence.winfo, message-summary, message']);
    expect(o.headers).toContainEqual(['Supported', 'eventlist']); // RFC 3261 §11.2: what a 420 would otherwise be the only way to learn
    expect((await decide(request({ method: 'PUBLISH' }), ctx)).status).toBe(501);
    for (const m of ['NOTIFY', 'MESSAGE', 'REGISTER']) {
      const a = await decide(request({ method: m }), ctx);
      expect(a.status).toBe(405);
      expect(a.headers).toContainEqual(['Allow', 'SUBSCRIBE, PUBLISH, OPTIONS']);
      expect(a.record).toBeUndefined();
    }
  });
});

describe('expiry policy', () => {
  it('refuses inconsistent settings', () => {
    expect(() => checkExpiryPolicy({ minExpires: 600, maxExpires: 60, defaultExpires: 300 })).toThrow(/above/);
    expect(() => checkExpiryPolicy({ minExpires: 60, maxExpires: 600, defaultExpires: 3600 })).toThrow(/outside/);
    expect(() => checkExpiryPolicy({ minExpires: 0, maxExpires: 600, defaultExpires: 300 })).toThrow(/positive/);
  });
});
