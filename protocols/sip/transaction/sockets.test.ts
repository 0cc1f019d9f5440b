// The transaction layer over the real transport on 127.0.0.1, in real time:
// Timer E against a peer that drops the first two copies, UDP request
// retransmissions absorbed by the server transaction, and TCP end to end.
import { afterEach, describe, expect, it } from 'vitest';
import { parseSipMessage } from '../../decode/sip/index.ts';
import { buildResponse, newBranch, serialize, type RequestSpec } from '../message/index.ts';
import { rawUdpPeer } from '../../../test/support/udpInbox.ts';
import { eventually, sleep } from '../../../test/support/wait.ts';
import { SipTransport } from '../transport/transport.ts';
import { TransactionLayer, type TransactionUser } from './layer.ts';
import { subscribeBytes } from '../../../test/support/fakeTransport.ts';

const HOST = '127.0.0.1';
const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function stack(tu: TransactionUser = { onRequest: (_r, tx) => void tx.respond(200) }) {
  const transport = await SipTransport.listen({ host: HOST });
  const layer = new TransactionLayer(transport, tu);
  closers.push(
    () => transport.close(),
    () => layer.close(),
  );
  return { transport, layer };
}

function notify(to: number): RequestSpec {
  return {
    method: 'NOTIFY',
    requestUri: `sip:watcher@${HOST}:${to}`,
    from: { uri: 'sip:alice@example.com', tag: 'pa' },
    to: { uri: 'sip:watcher@example.com', tag: 'wt' },
    callId: `n-${newBranch()}`,
    cseq: 1,
    headers: [
      ['Event', 'presence'],
      ['Subscription-State', 'active;expires=60'],
    ],
    body: '<presence/>',
    contentType: 'application/pidf+xml',
  };
}

describe('transactions over real sockets', () => {
  it('UDP: retransmits after T1 and 2·T1 to a peer that drops the first two copies, then completes', async () => {
    const { transport, layer } = await stack();
    const peer = await rawUdpPeer();
    closers.push(() => peer.socket.close());
    let answered = false;
    peer.socket.on('message', (data, rinfo) => {
      if (peer.datagrams.length < 3 || answered) return; // drop copies 1 and 2
      answered = true;
      const ok = serialize(buildResponse(parseSipMessage(data), 200));
      peer.socket.send(ok, rinfo.port, rinfo.address);
      peer.socket.send(ok, rinfo.port, rinfo.address); // a duplicated response, for Timer K to absorb
    });
    const started = Date.now();
    const tx = layer.request(notify(peer.port), { transport: 'udp', host: HOST, port: peer.port });
    const outcome = await tx.outcome;
    expect(outcome.kind === 'response' && outcome.response.status).toBe(200);
    expect(peer.datagrams).toHaveLength(3);
    const [a, b, c] = peer.datagrams.map((d) => d.at - started);
    expect(a!).toBeLessThan(300);
    expect(b! - a!).toBeGreaterThanOrEqual(450);
    expect(b! - a!).toBeLessThan(1100); // generous: CI machines are busy
    expect(c! - b!).toBeGreaterThanOrEqual(950);
    expect(c! - b!).toBeLessThan(1700);
    expect(new Set(peer.datagrams.map((d) => d.data.toString())).size).toBe(1);
    await eventually('duplicate 200 absorbed', () => tx.absorbedResponses === 1, { timeoutMs: 1000, intervalMs: 5 });
    expect(layer.stats.strayResponses).toBe(0);
    await sleep(600);
    expect(peer.datagrams).toHaveLength(3); // no retransmission once completed
    expect(transport.stats.sent.udp).toBe(3);
  }, 10_000);

  it('UDP: a retransmitted request reaches the TU once and gets the same response again', async () => {
    let calls = 0;
    const { transport } = await stack({
      onRequest: (_r, tx) => {
        calls++;
        void tx.respond(200, { headers: [['Expires', '600']] });
      },
    });
    const peer = await rawUdpPeer();
    closers.push(() => peer.socket.close());
    const bytes = subscribeBytes(newBranch(), 'SUBSCRIBE', peer.port);
    peer.socket.send(bytes, transport.port, HOST);
    await eventually('first 200', () => peer.datagrams.length === 1, { timeoutMs: 2000, intervalMs: 5 });
    peer.socket.send(bytes, transport.port, HOST);
    await eventually('repeated 200', () => peer.datagrams.length === 2, { timeoutMs: 2000, intervalMs: 5 });
    expect(calls).toBe(1);
    expect(peer.datagrams[1]!.data.equals(peer.datagrams[0]!.data)).toBe(true);
    const res = parseSipMessage(peer.datagrams[0]!.data);
    expect(res.status).toBe(200);
    expect(res.expires).toBe(600);
    expect(res.topVia?.received).toBe(undefined); // sent-by was already the source address
  });

  it('TCP: NOTIFY from one stack to another, answered on the same connection, nothing left behind', async () => {
    const seen: string[] = [];
    const b = await stack({
      onRequest: (r, tx) => {
        seen.push(`${r.method} ${r.event?.package} ${r.contentType?.mediaType} ${r.body.toString()}`);
        void tx.respond(200);
      },
    });
    const a = await stack();
    const tx = a.layer.request(notify(b.transport.port), { transport: 'tcp', host: HOST, port: b.transport.port });
    const outcome = await tx.outcome;
    expect(outcome.kind === 'response' && outcome.response.status).toBe(200);
    expect(seen).toEqual(['NOTIFY presence application/pidf+xml <presence/>']);
    expect(a.layer.clientTransactionCount).toBe(0); // Timer K = 0 on TCP
    expect(b.layer.serverTransactionCount).toBe(0); // Timer J = 0 on TCP
    expect(b.transport.stats.tcpConnectionsOpened).toBe(0);
    expect(a.transport.stats.sent.tcp).toBe(1);
  });
});
