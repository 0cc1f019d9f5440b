// Flood limits of the SIP transport (issue 13.8, Kamailio's pike and tcp
// limits as reference), on real sockets on loopback: one source sending too
// fast is cut to its rate while another source is still heard; TCP
// connections are capped per source; a sender that never finishes a message
// is disconnected; the per-source table stays bounded under many sources.
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Inbox, rawUdpPeer } from '../../../test/support/udpInbox.ts';
import { eventually, sleep } from '../../../test/support/wait.ts';
import { SourceLimits } from './sourceLimits.ts';
import { SipTransport } from './transport.ts';

const HOST = '127.0.0.1';
const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

function options(port: number, i: number, host = HOST): Buffer {
  return Buffer.from(
    [
      'OPTIONS sip:fe@example.com SIP/2.0',
      `Via: SIP/2.0/UDP ${host}:${port};branch=z9hG4bKflood${i}`,
      'From: <sip:w@example.com>;tag=1',
      'To: <sip:fe@example.com>',
      `Call-ID: flood-${i}-${host}`,
      'CSeq: 1 OPTIONS',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
}

async function tcpFrom(localAddress: string, port: number): Promise<{ socket: Socket; closed: () => boolean }> {
  const socket = connect({ host: HOST, port, localAddress });
  open.push({ close: () => socket.destroy() });
  let closed = false;
  socket.on('close', () => (closed = true));
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return { socket, closed: () => closed };
}

describe('SIP transport flood limits', () => {
  it('UDP: a source past its rate is dropped and counted, another source is still heard', async () => {
    const server = await SipTransport.listen({ host: HOST, limits: { requestsPerSecond: 20, burst: 20 } });
    open.push(server);
    const inbox = new Inbox(server);
    const flooder = await rawUdpPeer();
    open.push({ close: () => flooder.socket.close() });
    for (let i = 0; i < 200; i++) flooder.socket.send(options(flooder.port, i), server.port, HOST);
    await eventually('all 200 seen', () => server.stats.received.udp + server.stats.rateLimited >= 200, { timeoutMs: 5000, intervalMs: 10 });
    const heard = inbox.all.length;
    expect(heard).toBeGreaterThanOrEqual(20);
    expect(heard).toBeLessThan(40); // burst 20 + what 20/s refills while 200 datagrams pass
    expect(server.stats.rateLimited).toBe(200 - heard);

    const other = await rawUdpPeer('127.0.0.2');
    open.push({ close: () => other.socket.close() });
    other.socket.send(options(other.port, 0, '127.0.0.2'), server.port, HOST);
    await eventually('the other source heard', () => inbox.all.some((m) => m.source.address === '127.0.0.2'), { timeoutMs: 2000, intervalMs: 10 });
  });

  it('TCP: connections past the per-source cap are closed at once; another source still connects', async () => {
    const server = await SipTransport.listen({ host: HOST, limits: { maxTcpConnectionsPerSource: 5 } });
    open.push(server);
    const clients: Array<{ socket: Socket; closed: () => boolean }> = [];
    for (let i = 0; i < 8; i++) clients.push(await tcpFrom('127.0.0.1', server.port));
    await eventually('3 refused', () => clients.filter((c) => c.closed()).length === 3, { timeoutMs: 2000, intervalMs: 10 });
    const other = await tcpFrom('127.0.0.2', server.port);
    await sleep(100);
    expect(other.closed()).toBe(false);
    expect(clients.slice(0, 5).every((c) => !c.closed())).toBe(true);
    expect(server.stats.tcpConnectionsRefused).toEqual({ 'per-source': 3 });
  });

  it('TCP: a sender that does not finish its message within the read timeout is disconnected', async () => {
    const server = await SipTransport.listen({ host: HOST, limits: { messageReadTimeoutMs: 300 } });
    open.push(server);
    const slow = await tcpFrom('127.0.0.1', server.port);
    const partial = options(0, 1).subarray(0, 60);
    slow.socket.write(partial.subarray(0, 30));
    await sleep(150);
    slow.socket.write(partial.subarray(30)); // trickling bytes keeps the idle timer alive, not the read timer
    await eventually('closed', () => slow.closed(), { timeoutMs: 2000, intervalMs: 10 });
    expect(server.stats.tcpSlowClosed).toBe(1);
  });

  it('the per-source table is bounded: the least recently seen sources are forgotten', () => {
    const limits = new SourceLimits({ requestsPerSecond: 10, maxTrackedSources: 100 });
    for (let i = 0; i < 10_000; i++) limits.admitMessage(`10.0.${i >> 8}.${i & 255}`, 0);
    expect(limits.trackedSources).toBe(100);
  });
});
