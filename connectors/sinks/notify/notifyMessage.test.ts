import { describe, expect, it } from 'vitest';
import { parseSipMessage } from '../../../protocols/decode/sip/index.ts';
import { buildRequest, serialize } from '../../../protocols/sip/message/index.ts';
import type { NotifyRequest } from '../../../schemas/generated/records.ts';
import { notifyRecord } from '../../../test/support/notifyRecords.ts';
import { BadNotifyRequest, contactUri, dialogIdKey, nextHop, notifyContact, notifySpec, subscriptionStateValue, uriTarget } from './notifyMessage.ts';

const VIA = { transport: 'udp', host: '127.0.0.1', port: 5080, branch: 'z9hG4bKtest' };

function wire(n: NotifyRequest) {
  return parseSipMessage(serialize(buildRequest(notifySpec(n, { contact: contactUri('127.0.0.1', 5080) }), VIA)));
}

describe('NOTIFY building', () => {
  it('puts the NOTIFY in its dialog: Request-URI, From/To tags, Call-ID, CSeq, Event, Subscription-State, Contact, body', () => {
    const m = wire(notifyRecord());
    expect(m.method).toBe('NOTIFY');
    expect(m.requestUri).toBe('sip:watcher@192.0.2.10:5070');
    expect(m.headers.get('from')).toBe('<sip:+351910000001@ims.example.net>;tag=pa-tag');
    expect(m.headers.get('to')).toBe('<sip:watcher@example.com>;tag=w-tag');
    expect(m.callId).toBe('dlg-1@watcher');
    expect(m.cseq).toEqual({ seq: 7, method: 'NOTIFY' });
    expect(m.headers.get('event')).toBe('presence');
    expect(m.headers.get('subscription-state')).toBe('active;expires=600');
    expect(m.headers.get('contact')).toBe('<sip:127.0.0.1:5080>');
    expect(m.headers.get('max-forwards')).toBe('70');
    expect(m.headers.get('content-type')).toBe('application/pidf+xml');
    expect(m.body.toString()).toContain('urn:ietf:params:xml:ns:pidf');
    expect(m.contentLength).toBe(m.body.length);
    expect(m.headers.getAll('route')).toEqual([]);
  });

  it('terminated with a reason and no expires; no body means no Content-Type', () => {
    const m = wire(notifyRecord({ subscriptionState: 'terminated', expires: null, reason: 'timeout', body: null, contentType: null }));
    expect(m.headers.get('subscription-state')).toBe('terminated;reason=timeout');
    expect(m.headers.get('content-type')).toBeUndefined();
    expect(m.body.length).toBe(0);
  });

  it("a group dialog's NOTIFY (presentity group:<id>) carries Require: eventlist (RFC 4662 §5); a presentity's does not", () => {
    const g = wire(notifyRecord({ presentity: 'group:g-1', contentType: 'multipart/related;type="application/rlmi+xml"' }));
    expect(g.headers.get('require')).toBe('eventlist');
    expect(wire(notifyRecord()).headers.get('require')).toBeUndefined();
  });

  it('writes one Route per route-set entry, in order, and sends to the first loose router', () => {
    const n = notifyRecord({ routeSet: ['<sip:p1.example.net:5062;lr;transport=tcp>', 'sip:p2.example.net;lr'] });
    expect(wire(n).headers.getAll('route')).toEqual(['<sip:p1.example.net:5062;lr;transport=tcp>', '<sip:p2.example.net;lr>']);
    expect(nextHop(n)).toEqual({ transport: 'tcp', host: 'p1.example.net', port: 5062 });
    expect(() => nextHop(notifyRecord({ routeSet: ['<sip:strict.example.net>'] }))).toThrow(BadNotifyRequest);
  });

  it('Subscription-State value', () => {
    expect(subscriptionStateValue({ subscriptionState: 'pending', expires: 30, reason: null })).toBe('pending;expires=30');
    expect(subscriptionStateValue({ subscriptionState: 'terminated', expires: null, reason: 'noresource' })).toBe('terminated;reason=noresource');
    expect(subscriptionStateValue({ subscriptionState: 'active', expires: 0, reason: null })).toBe('active;expires=0');
  });

  it('targets: host/port/transport of the Request-URI, default udp/5060; refuses what it cannot send', () => {
    expect(uriTarget('sip:w@127.0.0.1:5999')).toEqual({ transport: 'udp', host: '127.0.0.1', port: 5999 });
    expect(uriTarget('sip:w@127.0.0.1:5999;transport=TCP')).toEqual({ transport: 'tcp', host: '127.0.0.1', port: 5999 });
    expect(uriTarget('sip:w@example.com')).toEqual({ transport: 'udp', host: 'example.com', port: 5060 });
    expect(uriTarget('sip:w@[2001:db8::1]:5070')).toEqual({ transport: 'udp', host: '2001:db8::1', port: 5070 });
    expect(() => uriTarget('tel:+351910000001')).toThrow(BadNotifyRequest);
    expect(() => uriTarget('sip:w@example.com;transport=sctp')).toThrow(BadNotifyRequest);
  });

  it('sips: and transport=tls go over TLS, default port 5061; a sips: request never takes a plain hop (RFC 5630)', () => {
    expect(uriTarget('sips:w@example.com')).toEqual({ transport: 'tls', host: 'example.com', port: 5061 });
    expect(uriTarget('sips:w@127.0.0.1:5071')).toEqual({ transport: 'tls', host: '127.0.0.1', port: 5071 });
    expect(uriTarget('sip:w@127.0.0.1;transport=TLS')).toEqual({ transport: 'tls', host: '127.0.0.1', port: 5061 });
    expect(() => uriTarget('sips:w@example.com;transport=udp')).toThrow(/TLS on every hop/);
    // The NOTIFY of a sips: dialog reaches even a sip: loose router over TLS, and is refused for one that names TCP.
    expect(nextHop(notifyRecord({ requestUri: 'sips:w@192.0.2.9:5071', routeSet: [] }))).toEqual({ transport: 'tls', host: '192.0.2.9', port: 5071 });
    expect(nextHop(notifyRecord({ requestUri: 'sips:w@192.0.2.9', routeSet: ['<sip:p1.example.net;lr>'] }))).toEqual({
      transport: 'tls',
      host: 'p1.example.net',
      port: 5061,
    });
    expect(() => nextHop(notifyRecord({ requestUri: 'sips:w@192.0.2.9', routeSet: ['<sip:p1.example.net;lr;transport=tcp>'] }))).toThrow(BadNotifyRequest);
  });

  it('a header value with a line break cannot be smuggled onto the wire', () => {
    expect(() =>
      serialize(buildRequest(notifySpec(notifyRecord({ reason: 'timeout\r\nX-Evil: 1', subscriptionState: 'terminated' }), { contact: 'sip:h' }), VIA)),
    ).toThrow(/line break/);
  });

  it('dialog key: Call-ID and both tags', () => {
    expect(dialogIdKey(notifyRecord())).not.toBe(dialogIdKey(notifyRecord({ remoteTag: 'other' })));
    expect(dialogIdKey(notifyRecord({ cseq: 1 }))).toBe(dialogIdKey(notifyRecord({ cseq: 2 })));
    expect(contactUri('::1', 5080)).toBe('sip:[::1]:5080');
  });

  it('the NOTIFY Contact is the configured front-end URI (refreshes go there), else the sink; a non-SIP one is refused', () => {
    expect(notifyContact('sip:presence.example.net:5060', '127.0.0.1', 5080)).toBe('sip:presence.example.net:5060');
    expect(notifyContact(undefined, '127.0.0.1', 5080)).toBe('sip:127.0.0.1:5080');
    expect(() => notifyContact('http://x', '127.0.0.1', 5080)).toThrow(/sip: or sips: URI/);
  });
});
