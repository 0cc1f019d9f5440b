// URI parser against the examples of RFC 3261 §19.1.3 and RFC 3966, plus
// RFC 4475 URI oddities.
import { describe, expect, it } from 'vitest';
import { parseUri } from './uri.ts';

describe('parseUri', () => {
  it('RFC 3261 §19.1.3 examples', () => {
    expect(parseUri('sip:alice@atlanta.com')).toMatchObject({ scheme: 'sip', user: 'alice', host: 'atlanta.com' });
    expect(parseUri('sip:alice:secretword@atlanta.com;transport=tcp')).toMatchObject({
      user: 'alice',
      password: 'secretword',
      host: 'atlanta.com',
      params: { transport: 'tcp' },
    });
    expect(parseUri('sips:alice@atlanta.com?subject=project%20x&priority=urgent')).toMatchObject({
      scheme: 'sips',
      headers: { subject: 'project x', priority: 'urgent' },
    });
    expect(parseUri('sip:+1-212-555-1212:1234@gateway.com;user=phone')).toMatchObject({
      user: '+1-212-555-1212',
      password: '1234',
      host: 'gateway.com',
      params: { user: 'phone' },
    });
    expect(parseUri('sips:1212@gateway.com')).toMatchObject({ user: '1212', host: 'gateway.com' });
    expect(parseUri('sip:alice@192.0.2.4')).toMatchObject({ host: '192.0.2.4' });
    expect(parseUri('sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com')).toMatchObject({
      host: 'atlanta.com',
      params: { method: 'REGISTER' },
      headers: { to: 'alice@atlanta.com' },
    });
    expect(parseUri('sip:alice;day=tuesday@atlanta.com')).toMatchObject({ user: 'alice;day=tuesday', host: 'atlanta.com' });
    expect(parseUri('sip:alice@atlanta.com')?.port).toBeUndefined();
  });

  it('ports, IPv6 references, case of scheme and params', () => {
    expect(parseUri('SIP:Bob@Biloxi.COM:5070;Transport=TCP;lr')).toMatchObject({
      scheme: 'sip',
      user: 'Bob',
      host: 'Biloxi.COM',
      port: 5070,
      params: { transport: 'TCP', lr: null },
    });
    expect(parseUri('sip:[2001:db8::10]:5060')).toMatchObject({ host: '2001:db8::10', port: 5060 });
    expect(parseUri('sip:[2001:db8::10]')).toMatchObject({ host: '2001:db8::10' });
    expect(parseUri('sip:user@host:99999')).toBeUndefined();
    expect(parseUri('sip:user@host:12x')).toBeUndefined();
    expect(parseUri('sip:[2001:db8::1')).toBeUndefined();
    expect(parseUri('sip:@')).toBeUndefined();
    expect(parseUri('no-colon')).toBeUndefined();
    expect(parseUri('')).toBeUndefined();
  });

  it('escaped user (RFC 4475 §3.1.1.6 esc01 style) and bad escapes kept raw', () => {
    expect(parseUri('sip:sips%3Auser%40example.com@example.net')).toMatchObject({ user: 'sips:user@example.com', host: 'example.net' });
    expect(parseUri('sip:100%zz@example.net')?.user).toBe('100%zz');
  });

  it('tel URIs (RFC 3966)', () => {
    expect(parseUri('tel:+1-201-555-0123')).toMatchObject({ scheme: 'tel', user: '+1-201-555-0123', host: '' });
    expect(parseUri('tel:7042;phone-context=example.com')).toMatchObject({ user: '7042', params: { 'phone-context': 'example.com' } });
    expect(parseUri('tel:863-1234;phone-context=+1-914-555')).toMatchObject({ user: '863-1234', params: { 'phone-context': '+1-914-555' } });
  });
});
