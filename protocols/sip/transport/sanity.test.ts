// What the transport answers to messages that break SIP's framing rules
// (issue 13.6, like Kamailio's sanity module), on real sockets on 127.0.0.1:
// a conflicting Content-Length can hide a second request in a body on TCP, so
// it is refused and the connection, whose framing is lost, closed; a message
// over the size limit gets 513 (RFC 3261 §21.5.14) instead of silence.
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSipMessage, SipStreamFramer } from '../../decode/sip/index.ts';
import { Inbox, rawUdpPeer } from '../../../test/support/udpInbox.ts';
import { eventually, sleep } from '../../../test/support/wait.ts';
import { SipTransport } from './transport.ts';

const HOST = '127.0.0.1';
const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

async function transport(maxMessageBytes?: number): Promise<SipTransport> {
  const t = await SipTransport.listen({ host: HOST, ...(maxMessageBytes ? { maxMessageBytes } : {}) });
  open.push(t);
  return t;
}

function request(transport: 'UDP' | 'TCP', port: number, callId: string, extra: string[], body = ''): string {
  return [
    'SUBSCRIBE sip:alice@example.com SIP/2.0',
    `Via: SIP/2.0/${transport} ${HOST}:${port};branch=z9hG4bK${callId};rport`,
    'From: <sip:w@example.com>;tag=1',
    'To: <sip:alice@example.com>',
    `Call-ID: ${callId}`,
    'CSeq: 1 SUBSCRIBE',
    'Event: presence',
    ...extra,
    '',
    body,
  ].join('\r\n');
}

/** A raw TCP client that collects what the server sends and notices when it closes. */
async function rawTcp(port: number): Promise<{ socket: Socket; received: Buffer[]; closed: () => boolean }> {
  const socket = connect({ host: HOST, port });
  open.push({ close: () => socket.destroy() });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const framer = new SipStreamFramer();
  const received: Buffer[] = [];
  let closed = false;
  socket.on('data', (chunk: Buffer) => received.push(...framer.push(chunk)));
  socket.on('close', () => (closed = true));
  socket.on('error', () => {});
  return { socket, received, closed: () => closed };
}

describe('SIP transport sanity', () => {
  it('UDP: a request with two different Content-Lengths gets 400', async () => {
    const server = await transport();
    const inbox = new Inbox(server);
    const peer = await rawUdpPeer();
    open.push({ close: () => peer.socket.close() });
    const text = request('UDP', peer.port, 'cl-udp', ['Content-Length: 0', 'Content-Length: 5'], 'hello');
    await new Promise<void>((r) => peer.socket.send(Buffer.from(text), server.port, HOST, () => r()));
    await eventually('400', () => peer.datagrams.length === 1, { timeoutMs: 2000, intervalMs: 5 });
    const answer = parseSipMessage(peer.datagrams[0]!.data);
    expect(answer.status).toBe(400);
    expect(answer.reason).toMatch(/Content-Length/);
    expect(inbox.all).toHaveLength(0);
  });

  it('TCP: two different Content-Lengths get 400, the request hidden in the body is never delivered, the connection is closed', async () => {
    const server = await transport();
    const inbox = new Inbox(server);
    const client = await rawTcp(server.port);
    const hidden = request('TCP', client.socket.localPort!, 'hidden', ['Content-Length: 0']);
    const outer = request('TCP', client.socket.localPort!, 'outer', [`Content-Length: ${Buffer.byteLength(hidden)}`, 'Content-Length: 0'], hidden);
    client.socket.write(outer);
    await eventually('closed', () => client.closed(), { timeoutMs: 3000, intervalMs: 10 });
    expect(client.received.map((m) => parseSipMessage(m).status)).toEqual([400]);
    await sleep(50);
    expect(inbox.all.map((m) => m.message.callId)).toEqual([]);
    expect(server.stats.malformed['sip.framing']).toBe(1);
  });

  it('TCP: a message over the size limit gets 513 and the connection is closed; UDP likewise gets 513', async () => {
    const server = await transport(4096);
    const inbox = new Inbox(server);
    const client = await rawTcp(server.port);
    const body = 'x'.repeat(6000);
    client.socket.write(request('TCP', client.socket.localPort!, 'big-tcp', [`Content-Length: ${body.length}`, 'Content-Type: text/plain'], body));
    await eventually('closed', () => client.closed(), { timeoutMs: 3000, intervalMs: 10 });
    const answers = client.received.map((m) => parseSipMessage(m));
    expect(answers.map((a) => [a.status, a.callId])).toEqual([[513, 'big-tcp']]);

    const peer = await rawUdpPeer();
    open.push({ close: () => peer.socket.close() });
    const big = request('UDP', peer.port, 'big-udp', [`Content-Length: ${body.length}`, 'Content-Type: text/plain'], body);
    await new Promise<void>((r) => peer.socket.send(Buffer.from(big), server.port, HOST, () => r()));
    await eventually('513 over UDP', () => peer.datagrams.length === 1, { timeoutMs: 2000, intervalMs: 5 });
    expect(parseSipMessage(peer.datagrams[0]!.data).status).toBe(513);
    expect(inbox.all).toHaveLength(0);
    expect(server.stats.tooLarge).toBe(2);
  });
});
