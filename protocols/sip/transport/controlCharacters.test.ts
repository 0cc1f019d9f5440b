// Control characters at the SIP edge, on real sockets on 127.0.0.1: a SUBSCRIBE
// whose From (or Request-URI) carries a NUL is answered 400 and never reaches
// the handler — downstream it would make PostgreSQL refuse queries (SQLSTATE
// 22021) — and the 400 itself carries no control character.
import { afterEach, describe, expect, it } from 'vitest';
import { firstControlCharacter, parseSipMessage } from '../../decode/sip/index.ts';
import { Inbox, rawUdpPeer } from '../../../test/support/udpInbox.ts';
import { eventually, sleep } from '../../../test/support/wait.ts';
import { SipTransport } from './transport.ts';

const HOST = '127.0.0.1';
const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

describe('control characters at the SIP edge', () => {
  it('answers 400 to a SUBSCRIBE with a NUL in From or in the Request-URI, and keeps taking good requests', async () => {
    const server = await SipTransport.listen({ host: HOST });
    open.push(server);
    const inbox = new Inbox(server);
    const peer = await rawUdpPeer();
    open.push({ close: () => peer.socket.close() });
    const send = (lines: string[]) => new Promise<void>((r) => peer.socket.send(Buffer.from(lines.join('\r\n'), 'utf8'), server.port, HOST, () => r()));
    const request = (n: number, ruri: string, from: string) => [
      `SUBSCRIBE ${ruri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${HOST}:${peer.port};branch=z9hG4bKnul${n};rport`,
      `From: ${from};tag=w${n}`,
      'To: <sip:alice@example.com>',
      `Call-ID: nul-${n}`,
      'CSeq: 1 SUBSCRIBE',
      'Event: presence',
      `Contact: <sip:w@${HOST}:${peer.port}>`,
      'Content-Length: 0',
      '',
      '',
    ];
    await send(request(1, 'sip:alice@example.com', '<sip:wat\u0000cher@example.com>'));
    await eventually('400 to the NUL in From', () => peer.datagrams.length === 1, { timeoutMs: 2000, intervalMs: 5 });
    await send(request(2, 'sip:ali\u0001ce@example.com', '<sip:watcher@example.com>'));
    await eventually('400 to the control character in the Request-URI', () => peer.datagrams.length === 2, { timeoutMs: 2000, intervalMs: 5 });
    for (const [i, d] of peer.datagrams.entries()) {
      expect(firstControlCharacter(d.data.toString('latin1'))).toBe(-1);
      const answer = parseSipMessage(d.data);
      expect(answer.status).toBe(400);
      expect(answer.callId).toBe(`nul-${i + 1}`);
      expect(answer.reason).toMatch(/control character/);
    }
    await send(request(3, 'sip:alice@example.com', '<sip:watcher@example.com>'));
    expect((await inbox.next()).message.callId).toBe('nul-3');
    await sleep(50);
    expect(inbox.all.map((r) => r.message.callId)).toEqual(['nul-3']);
    expect(server.stats.malformed['sip.malformed']).toBe(2);
  });
});
