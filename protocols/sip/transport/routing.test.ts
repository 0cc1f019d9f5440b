// Where responses go (RFC 3261 §18.2.1/§18.2.2, RFC 3581) and what a refused
// request still yields for a 400 — pure functions, no sockets.
import { describe, expect, it } from 'vitest';
import { parseVia } from '../../decode/sip/index.ts';
import { stampViaValue } from './received.ts';
import { responseTarget } from './responseTarget.ts';
import { salvageRequest } from './salvage.ts';
import type { MessageSource } from './types.ts';

const udp = (address: string, port: number): MessageSource => ({ transport: 'udp', address, port });

describe('stampViaValue', () => {
  it('adds received when sent-by differs from the source, and only to the top Via', () => {
    const v = 'SIP/2.0/UDP pc33.example.com:5066;branch=z9hG4bK1, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK0';
    expect(stampViaValue(v, udp('192.0.2.4', 5066))).toBe(
      'SIP/2.0/UDP pc33.example.com:5066;branch=z9hG4bK1;received=192.0.2.4, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK0',
    );
  });

  it('leaves a Via alone when sent-by is the source address and no rport was asked for', () => {
    const v = 'SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bK1';
    expect(stampViaValue(v, udp('192.0.2.4', 5060))).toBe(v);
  });

  it('fills in rport with the source port and always adds received then (RFC 3581 §4)', () => {
    const stamped = stampViaValue('SIP/2.0/UDP 10.1.1.1:5060;rport;branch=z9hG4bK1', udp('10.1.1.1', 40000));
    expect(parseVia(stamped)).toMatchObject({ rport: 40000, received: '10.1.1.1', branch: 'z9hG4bK1', port: 5060 });
  });

  it('replaces a received the client put there itself', () => {
    const stamped = stampViaValue('SIP/2.0/UDP h.example;branch=z9hG4bK1;received=6.6.6.6', udp('192.0.2.9', 5060));
    expect(stamped).toBe('SIP/2.0/UDP h.example;branch=z9hG4bK1;received=192.0.2.9');
  });
});

describe('responseTarget', () => {
  const via = (v: string) => parseVia(v)!;
  it('UDP: received + sent-by port, default 5060, or the source port with rport', () => {
    expect(responseTarget(via('SIP/2.0/UDP h.example:5070;branch=z9hG4bK1;received=192.0.2.4'), udp('192.0.2.4', 33333)).primary).toEqual({
      transport: 'udp',
      host: '192.0.2.4',
      port: 5070,
    });
    expect(responseTarget(via('SIP/2.0/UDP 192.0.2.4;branch=z9hG4bK1'), udp('192.0.2.4', 33333)).primary).toEqual({
      transport: 'udp',
      host: '192.0.2.4',
      port: 5060,
    });
    expect(responseTarget(via('SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;received=192.0.2.4;rport=33333'), udp('192.0.2.4', 33333)).primary).toEqual({
      transport: 'udp',
      host: '192.0.2.4',
      port: 33333,
    });
    expect(responseTarget(undefined, udp('192.0.2.4', 1234)).primary).toEqual({ transport: 'udp', host: '192.0.2.4', port: 1234 });
  });

  it('TCP: the connection it came on, else a new one to received/sent-by', () => {
    const r = responseTarget(via('SIP/2.0/TCP client.example:5062;branch=z9hG4bK1;received=192.0.2.4'), {
      transport: 'tcp',
      address: '192.0.2.4',
      port: 40001,
    });
    expect(r).toEqual({ primary: { transport: 'tcp', host: '192.0.2.4', port: 40001 }, fallback: { transport: 'tcp', host: '192.0.2.4', port: 5062 } });
  });
});

describe('salvageRequest', () => {
  const lines = (...l: string[]) => Buffer.from(l.join('\r\n') + '\r\n\r\n');
  const head = ['Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1', 'f: <sip:a@b>;tag=1', 'To: <sip:c@d>', 'Call-ID: x', 'CSeq: 7 PUBLISH'];

  it('keeps the raw header values a 400 copies, with compact forms and folding', () => {
    const s = salvageRequest(lines('\r\nPUBLISH sip:c@d SIP/2.0', ...head, 'Via: SIP/2.0/UDP p.example', ' ;branch=z9hG4bK0', 'Content-Length: zzz'));
    expect(s).toEqual({
      method: 'PUBLISH',
      identity: {
        vias: ['SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1', 'SIP/2.0/UDP p.example ;branch=z9hG4bK0'],
        from: '<sip:a@b>;tag=1',
        to: '<sip:c@d>',
        callId: 'x',
        cseq: '7 PUBLISH',
      },
    });
  });

  it('gives up on responses, ACKs, non-SIP and requests missing any of Via/From/To/Call-ID/CSeq', () => {
    expect(salvageRequest(lines('SIP/2.0 200 OK', ...head))).toBeUndefined();
    expect(salvageRequest(lines('ACK sip:c@d SIP/2.0', ...head))).toBeUndefined();
    expect(salvageRequest(lines('GET / HTTP/1.1', ...head))).toBeUndefined();
    for (let i = 0; i < head.length; i++) {
      expect(salvageRequest(lines('PUBLISH sip:c@d SIP/2.0', ...head.filter((_, j) => j !== i)))).toBeUndefined();
    }
    expect(salvageRequest(lines('PUBLISH sip:c@d SIP/2.0', 'Via: garbage', ...head.slice(1)))).toBeUndefined();
  });
});
