// Flow tokens: what the front end signs is what it gets back, nothing else;
// the route that carries one is recognised, and a refresh moves only it.
import { describe, expect, it } from 'vitest';
import { parseUri } from '../../decode/sip/index.ts';
import { flowRoute, isFlowRoute, mintFlowToken, readFlowToken, refreshedRouteSet, routeUri } from './flowToken.ts';

const secret = Buffer.from('s1');
const flow = { transport: 'udp' as const, address: '198.51.100.7', port: 40123 };

describe('flow tokens', () => {
  it('round-trip a flow (IPv4 and IPv6), as a valid URI user part', () => {
    const t = mintFlowToken(flow, secret);
    expect(t).toMatch(/^[\w-]+\.[\w-]+$/);
    expect(readFlowToken(t, secret)).toEqual(flow);
    const v6 = { transport: 'tcp' as const, address: '2001:db8::7', port: 5061 };
    expect(readFlowToken(mintFlowToken(v6, secret), secret)).toEqual(v6);
    const route = flowRoute(t, '2001:db8::1', 5060, 'udp');
    expect(parseUri(routeUri(route))).toMatchObject({ user: t, host: '2001:db8::1', port: 5060 });
  });

  it('refuse another secret, a changed flow, a cut token and garbage', () => {
    const t = mintFlowToken(flow, secret);
    expect(readFlowToken(t, Buffer.from('s2'))).toBeUndefined();
    const [, mac] = t.split('.');
    const other = Buffer.from('udp|203.0.113.9|5060').toString('base64url');
    expect(readFlowToken(`${other}.${mac}`, secret)).toBeUndefined();
    expect(readFlowToken(t.slice(0, -2), secret)).toBeUndefined();
    for (const bad of ['', '.', 'a.b.c', 'not a token']) expect(readFlowToken(bad, secret)).toBeUndefined();
  });

  it('a flow route is recognised; a proxy route is not', () => {
    expect(isFlowRoute(flowRoute(mintFlowToken(flow, secret), '192.0.2.1', 5060, 'udp'))).toBe(true);
    expect(isFlowRoute('<sip:proxy.example;lr>')).toBe(false);
    expect(isFlowRoute('<sip:p.example;flow=udp>')).toBe(false); // no user part, no lr
  });

  it('a refresh replaces the flow route only, and only with a flow route', () => {
    const a = flowRoute('a.x', '192.0.2.1', 5060, 'udp');
    const b = flowRoute('b.x', '192.0.2.1', 5060, 'udp');
    expect(refreshedRouteSet([a, '<sip:p;lr>'], [b])).toEqual([b, '<sip:p;lr>']);
    expect(refreshedRouteSet([a], ['<sip:p;lr>'])).toEqual([a]);
    expect(refreshedRouteSet([], [b])).toEqual([b]);
  });
});
