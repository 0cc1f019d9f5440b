// The transport on real sockets on 127.0.0.1: UDP and TCP on one port, source
// addresses for answering, TCP reuse in both directions, framing across and
// within writes, idle close, and bad input that must not stop it.
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSipMessage } from '../../decode/sip/index.ts';
import { buildRequest, buildResponse, newBranch, serialize, type OutgoingRequest } from '../message/index.ts';
import { responseTarget } from './responseTarget.ts';
import { Inbox, rawUdpPeer } from '../../../test/support/udpInbox.ts';
import { eventually, sleep } from '../../../test/support/wait.ts';
import { SipTransport } from './transport.ts';

const HOST = '127.0.0.1';
const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

async function transport(options: { tcpIdleTimeoutMs?: number } = {}): Promise<SipTransport> {
  const t = await SipTransport.listen({ host: HOST, ...options });
  open.push(t);
  return t;
}

function subscribe(from: SipTransport, transport: 'udp' | 'tcp', callId = 'call-1', body = ''): OutgoingRequest {
  return buildRequest(
    {
      method: 'SUBSCRIBE',
      requestUri: 'sip:alice@127.0.0.1',
      from: { uri: 'sip:watcher@127.0.0.1', tag: 'w1' },
      to: { uri: 'sip:alice@127.0.0.1' },
      callId,
      cseq: 1,
      contact: `sip:watcher@${HOST}:${from.port}`,
      headers: [
        ['Event', 'presence'],
        ['Expires', '600'],
      ],
      ...(body ? { body, contentType: 'text/plain' } : {}),
    },
    { transport, host: HOST, port: from.port, branch: newBranch() },
  );
}

async function rawTcp(port: number): Promise<Socket> {
  const s = connect({ host: HOST, port });
  s.setNoDelay(true);
  open.push({ close: () => s.destroy() });
  await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject));
  return s;
}

describe('SipTransport', () => {
  it('listens on the same port for UDP and TCP', async () => {
    const server = await transport();
    const client = await transport();
    const inbox = new Inbox(server);
    await client.send(subscribe(client, 'udp', 'over-udp'), { transport: 'udp', host: HOST, port: server.port });
    await client.send(subscribe(client, 'tcp', 'over-tcp'), { transport: 'tcp', host: HOST, port: server.port });
    const got = [await inbox.next(), await inbox.next()].sort((a, b) => a.source.transport.localeCompare(b.source.transport));
    expect(got.map((g) => [g.source.transport, g.message.callId])).toEqual([
      ['tcp', 'over-tcp'],
      ['udp', 'over-udp'],
    ]);
    expect(got[1]!.source).toEqual({ transport: 'udp', address: HOST, port: client.port });
    expect(got[0]!.source.port).not.toBe(client.port); // TCP: the client's ephemeral port
  });

  it('UDP: stamps received/rport on the top Via and the response finds its way back', async () => {
    const server = await transport();
    const client = await transport();
    const serverInbox = new Inbox(server);
    const clientInbox = new Inbox(client);
    await client.send(subscribe(client, 'udp'), { transport: 'udp', host: HOST, port: server.port });
    const { message, source } = await serverInbox.next();
    // RFC 3581: rport asked for → rport filled in and received added even though it equals sent-by.
    expect(message.topVia).toMatchObject({ host: HOST, port: client.port, rport: client.port, received: HOST });
    const route = responseTarget(message.topVia, source);
    expect(route.primary).toEqual({ transport: 'udp', host: HOST, port: client.port });
    await server.send(buildResponse(message, 200, { headers: [['Expires', '600']] }), route.primary);
    const res = await clientInbox.next();
    expect(res.message.status).toBe(200);
    // The response's Via shows the client where it was seen from.
    expect(res.message.topVia).toMatchObject({ received: HOST, rport: client.port });
    expect(server.stats.received.udp).toBe(1);
    expect(server.stats.sent.udp).toBe(1);
  });

  it('TCP: answers on the connection the client opened and reuses it for later requests', async () => {
    const server = await transport();
    const client = await transport();
    const serverInbox = new Inbox(server);
    const clientInbox = new Inbox(client);
    const target = { transport: 'tcp' as const, host: HOST, port: server.port };
    for (const callId of ['a', 'b', 'c']) {
      await client.send(subscribe(client, 'tcp', callId), target);
      const { message, source } = await serverInbox.next();
      expect(message.callId).toBe(callId);
      const route = responseTarget(message.topVia, source);
      expect(route.fallback).toEqual({ transport: 'tcp', host: HOST, port: client.port });
      await server.send(buildResponse(message, 202), route.primary, { reuseOnly: true });
      const res = await clientInbox.next();
      expect(res.message.status).toBe(202);
      expect(res.message.callId).toBe(callId);
      expect(res.source).toEqual({ transport: 'tcp', address: HOST, port: server.port });
    }
    expect(client.stats.tcpConnectionsOpened).toBe(1);
    expect(server.stats.tcpConnectionsAccepted).toBe(1);
    expect(server.stats.tcpConnectionsOpened).toBe(0);
    expect(client.tcpConnectionCount).toBe(1);
    expect(server.tcpConnectionCount).toBe(1);
  });

  it('TCP: reuseOnly refuses to open a connection; a failed connect rejects the send', async () => {
    const client = await transport();
    const probe = await transport();
    const deadPort = probe.port;
    await probe.close();
    await expect(client.send(subscribe(client, 'tcp'), { transport: 'tcp', host: HOST, port: deadPort }, { reuseOnly: true })).rejects.toThrow(
      /no TCP connection/,
    );
    await expect(client.send(subscribe(client, 'tcp'), { transport: 'tcp', host: HOST, port: deadPort })).rejects.toThrow();
    await eventually('failed connection forgotten', () => client.tcpConnectionCount === 0, { timeoutMs: 1000, intervalMs: 5 });
  });

  it('TCP: several messages in one write are delivered in order', async () => {
    const server = await transport();
    const inbox = new Inbox(server);
    const s = await rawTcp(server.port);
    const client = await transport(); // only to have a port for the Via
    const bytes = Buffer.concat(['m1', 'm2', 'm3'].map((id, i) => serialize(subscribe(client, 'tcp', id, i === 1 ? 'body\r\n\r\nwith blank line' : ''))));
    s.write(Buffer.concat([Buffer.from('\r\n\r\n'), bytes])); // leading keep-alive too
    const got = [await inbox.next(), await inbox.next(), await inbox.next()];
    expect(got.map((g) => g.message.callId)).toEqual(['m1', 'm2', 'm3']);
    expect(got[1]!.message.body.toString()).toBe('body\r\n\r\nwith blank line');
    expect(got[0]!.source).toEqual({ transport: 'tcp', address: HOST, port: s.localPort });
  });

  it('TCP: a message split across writes is delivered once, when complete', async () => {
    const server = await transport();
    const inbox = new Inbox(server);
    const s = await rawTcp(server.port);
    const client = await transport();
    const bytes = serialize(subscribe(client, 'tcp', 'split', 'the body'));
    const cuts = [7, bytes.indexOf('\r\n\r\n') + 2, bytes.length - 3];
    let prev = 0;
    for (const cut of cuts) {
      s.write(bytes.subarray(prev, cut));
      prev = cut;
      await sleep(30); // separate segments on loopback
      expect(inbox.all).toHaveLength(0);
    }
    s.write(bytes.subarray(prev));
    const got = await inbox.next();
    expect(got.message.callId).toBe('split');
    expect(got.message.body.toString()).toBe('the body');
    await sleep(50);
    expect(inbox.all).toHaveLength(1);
  });

  it('TCP: closes idle connections and opens a new one when needed', async () => {
    const server = await transport({ tcpIdleTimeoutMs: 150 });
    const client = await transport();
    const inbox = new Inbox(server);
    await client.send(subscribe(client, 'tcp'), { transport: 'tcp', host: HOST, port: server.port });
    await inbox.next();
    expect(server.tcpConnectionCount).toBe(1);
    await eventually('idle close', () => server.tcpConnectionCount === 0 && client.tcpConnectionCount === 0, { timeoutMs: 2000, intervalMs: 5 });
    expect(server.stats.tcpConnectionsIdleClosed).toBe(1);
    await client.send(subscribe(client, 'tcp', 'again'), { transport: 'tcp', host: HOST, port: server.port });
    expect((await inbox.next()).message.callId).toBe('again');
    expect(client.stats.tcpConnectionsOpened).toBe(2);
  });

  it('UDP: a malformed request with enough headers gets 400; garbage and bad responses are dropped; it keeps running', async () => {
    const server = await transport();
    const inbox = new Inbox(server);
    const peer = await rawUdpPeer();
    open.push({ close: () => peer.socket.close() });
    const sendRaw = (text: string) => new Promise<void>((r) => peer.socket.send(Buffer.from(text), server.port, HOST, () => r()));
    const head = [
      `Via: SIP/2.0/UDP ${HOST}:${peer.port};branch=z9hG4bKbad1;rport`,
      'From: <sip:w@example.com>;tag=1',
      'To: <sip:alice@example.com>',
      'Call-ID: bad-1',
    ];
    // CSeq method differs from the request method: the parser refuses it.
    await sendRaw(['SUBSCRIBE sip:alice@example.com SIP/2.0', ...head, 'CSeq: 1 PUBLISH', 'Content-Length: 0', '', ''].join('\r\n'));
    await eventually('400 answer', () => peer.datagrams.length === 1, { timeoutMs: 2000, intervalMs: 5 });
    const answer = parseSipMessage(peer.datagrams[0]!.data);
    expect(answer.status).toBe(400);
    expect(answer.reason).toMatch(/^Bad Request \(sip: malformed: CSeq method/);
    expect(answer.callId).toBe('bad-1');
    expect(answer.topVia).toMatchObject({ branch: 'z9hG4bKbad1', rport: peer.port, received: HOST });
    expect(answer.to?.tag).toBeDefined();

    await sendRaw('hello, this is not SIP\r\n\r\n');
    await sendRaw(['SUBSCRIBE sip:alice@example.com SIP/2.0', 'Call-ID: no-via', 'CSeq: 1 SUBSCRIBE', '', ''].join('\r\n')); // nothing to answer with
    await sendRaw(['SIP/2.0 200 OK', ...head, 'Content-Length: 0', '', ''].join('\r\n')); // response without CSeq
    await sendRaw(['ACK sip:alice@example.com SIP/2.0', ...head, 'CSeq: x ACK', '', ''].join('\r\n')); // ACK: never answered
    await sendRaw('\r\n\r\n'); // keep-alive
    const good = subscribe(server, 'udp', 'good-after-bad');
    await sendRaw(serialize(good).toString());
    expect((await inbox.next()).message.callId).toBe('good-after-bad');
    await sleep(100);
    expect(peer.datagrams).toHaveLength(1);
    expect(inbox.all).toHaveLength(1);
    expect(server.stats.malformed['sip.malformed']).toBe(5);
    expect(server.stats.badRequestsAnswered).toBe(1);
    expect(server.stats.keepAlives).toBe(1);
  });

  it('keeps running when the message handler throws', async () => {
    const server = await transport();
    const client = await transport();
    let calls = 0;
    server.onMessage(() => {
      calls++;
      throw new Error('handler bug');
    });
    await client.send(subscribe(client, 'udp', 'x1'), { transport: 'udp', host: HOST, port: server.port });
    await client.send(subscribe(client, 'udp', 'x2'), { transport: 'udp', host: HOST, port: server.port });
    await eventually('two deliveries', () => calls === 2, { timeoutMs: 2000, intervalMs: 5 });
    expect(server.stats.handlerErrors).toBe(2);
  });

  it('refuses a fixed port that is taken, leaving nothing bound', async () => {
    const first = await transport();
    await expect(SipTransport.listen({ host: HOST, port: first.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('close() releases both sockets and refuses further sends', async () => {
    const t = await SipTransport.listen({ host: HOST });
    const port = t.port;
    await t.close();
    await expect(t.send(Buffer.from('x'), { transport: 'udp', host: HOST, port: 9 })).rejects.toThrow(/closed/);
    const again = await SipTransport.listen({ host: HOST, port });
    expect(again.port).toBe(port);
    await again.close();
  });
});
