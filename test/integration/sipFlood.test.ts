// A bounded SIP flood on loopback (issue 13 item 8 and its test list: "a
// bounded flood test on loopback that checks memory stays bounded and a probe is
// still answered afterwards"). Memory is checked by what holds it, not by RSS
// (figures: bench/sipFlood.ts): 4,000 SUBSCRIBEs with random Call-IDs from one
// source, unlimited per source, leave at most the front end's cap of server
// transactions, the rest answered 503 + Retry-After statelessly; a probe from
// another address gets 503 + Retry-After, not silence. With a per-source rate
// limit the same flood is mostly dropped and the probe gets 200. TCP
// connections past the total cap are refused and counted.
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SipFrontEnd } from '../../front-end/sipFrontEnd.ts';
import { presentityKey } from '../../front-end/subscribeHandler.ts';
import type { SourceLimitOptions } from '../../protocols/sip/transport/sourceLimits.ts';
import { floodSubscribe } from '../support/floodRequests.ts';
import { openSipUdpClient, type SipUdpClient } from '../support/sipUdpClient.ts';
import { eventually, sleep } from '../support/wait.ts';

const HOST = '127.0.0.1';
const FLOOD = 4_000;
const CAP = 300;
const opened: Array<{ close(): Promise<void> | void }> = [];
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
});

async function frontEnd(limits?: SourceLimitOptions): Promise<{ fe: SipFrontEnd; recorded: () => number }> {
  let recorded = 0;
  const fe = await SipFrontEnd.start({
    host: HOST,
    port: 0,
    resolveKey: (u) => presentityKey(u, { countryCode: '351' }),
    sink: { record: async () => void recorded++ },
    maxServerTransactions: CAP,
    ...(limits ? { limits } : {}),
  });
  opened.push({ close: () => fe.stop() });
  return { fe, recorded: () => recorded };
}

async function udpClient(host: string): Promise<SipUdpClient> {
  const c = await openSipUdpClient({ host, defaultTimeoutMs: 3000 });
  opened.push(c);
  return c;
}

/** Sends the flood in bursts of 100 (bounded: ~1 s), sampling the transaction table after each; its largest size. */
async function flood(fe: SipFrontEnd, from: SipUdpClient): Promise<number> {
  let most = 0;
  for (let i = 0; i < FLOOD; i++) {
    from.socket.send(floodSubscribe(from.port, i), fe.port, HOST);
    if (i % 100 === 99) {
      await sleep(20);
      most = Math.max(most, fe.layer.serverTransactionCount);
    }
  }
  await sleep(300);
  return Math.max(most, fe.layer.serverTransactionCount);
}

async function probe(fe: SipFrontEnd): Promise<{ status: number | undefined; retryAfter: string | undefined }> {
  const c = await udpClient('127.0.0.2');
  c.socket.send(floodSubscribe(c.port, 1, '127.0.0.2').toString().replaceAll('SUBSCRIBE', 'OPTIONS'), fe.port, HOST);
  const answer = await c.next();
  return { status: answer.status, retryAfter: answer.headers.get('retry-after') };
}

describe('a SIP flood of random Call-IDs', () => {
  it('without a per-source limit holds at most the transaction cap; the rest and a probe are answered 503 + Retry-After', async () => {
    const { fe, recorded } = await frontEnd();
    const most = await flood(fe, await udpClient(HOST));
    expect(most).toBeLessThanOrEqual(CAP);
    expect(recorded()).toBeLessThanOrEqual(CAP);
    // Datagrams the kernel dropped on a busy machine are neither: the two together are at most the flood.
    expect(fe.layer.stats.overloaded).toBeGreaterThan(FLOOD / 2);
    expect(recorded() + fe.layer.stats.overloaded).toBeLessThanOrEqual(FLOOD);
    expect(await probe(fe)).toEqual({ status: 503, retryAfter: '5' });
  }, 30_000);

  it('with a per-source rate limit is mostly dropped, and a probe from elsewhere gets its 200', async () => {
    const { fe, recorded } = await frontEnd({
      requestsPerSecond: 50,
      burst: 100,
      exempt: [],
      maxTcpConnectionsPerSource: 100,
      maxTcpConnections: 10_000,
      messageReadTimeoutMs: 10_000,
    });
    await flood(fe, await udpClient(HOST));
    expect(fe.transport.stats.rateLimited).toBeGreaterThan(FLOOD / 2);
    expect(recorded()).toBeLessThan(FLOOD / 10);
    expect((await probe(fe)).status).toBe(200);
  }, 30_000);

  it('refuses TCP connections past the total cap, counted, and still answers over UDP', async () => {
    const { fe } = await frontEnd({
      requestsPerSecond: 0,
      burst: undefined,
      exempt: [],
      maxTcpConnectionsPerSource: 1000,
      maxTcpConnections: 10,
      messageReadTimeoutMs: 10_000,
    });
    const sockets: Socket[] = [];
    opened.push({ close: () => sockets.forEach((s) => s.destroy()) });
    for (let i = 0; i < 30; i++) {
      const s = connect({ host: HOST, port: fe.port });
      s.on('error', () => {});
      sockets.push(s);
    }
    await eventually(
      '30 connections accepted or refused',
      () => fe.transport.stats.tcpConnectionsAccepted + (fe.transport.stats.tcpConnectionsRefused['total'] ?? 0) >= 30,
      {
        timeoutMs: 10_000,
      },
    );
    expect(fe.transport.stats.tcpConnectionsRefused).toEqual({ total: 20 });
    expect((await probe(fe)).status).toBe(200);
  }, 30_000);
});
