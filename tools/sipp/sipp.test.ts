// SIPp (a real, independent SIP implementation) against our transport and
// transaction layer on 127.0.0.1: (a) SIPp as the watcher's UAS answering our
// NOTIFY; (b) SIPp as a watcher's UAC sending SUBSCRIBE that our server
// transaction answers — over UDP (including a retransmitted request) and TCP.
// SIPp's exit code 0 means every call of its scenario succeeded.
import { connect, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { SipMessage } from '../../protocols/decode/sip/index.ts';
import type { NonInviteServerTransaction } from '../../protocols/sip/transaction/serverTransaction.ts';
import { SipTransport } from '../../protocols/sip/transport/transport.ts';
import { TransactionLayer } from '../../protocols/sip/transaction/layer.ts';
import { NOTIFY_UAS, SUBSCRIBE_RETRANSMITTING_UAC, SUBSCRIBE_UAC } from './scenarios.ts';
import { sippAvailable, startSipp, type SippProcess } from './sipp.ts';
import { freeUdpPort as freeUdpPortOn } from '../../test/support/ports.ts';

const HOST = '127.0.0.1';
const HAVE_SIPP = sippAvailable();
if (!HAVE_SIPP) console.warn('sipp not found on PATH (Debian: apt-get install sip-tester): SIPp interop tests skipped');

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const freeUdpPort = () => freeUdpPortOn(HOST);

/** SIPp as a UAC running one call of `scenario` against our transport ('u1' UDP, 't1' TCP). */
async function runUac(scenario: string, port: number, transportMode: 'u1' | 't1') {
  const sipp = track(
    startSipp({ scenario, args: [`${HOST}:${port}`, '-i', HOST, '-p', String(await freeUdpTcpPort()), '-t', transportMode, '-m', '1'], deadlineMs: 15_000 }),
  );
  return sipp.done;
}

/** A port free right now for both UDP and TCP (SIPp over TCP binds both). */
async function freeUdpTcpPort(): Promise<number> {
  for (;;) {
    const port = await freeUdpPort();
    const server = createServer();
    const ok = await new Promise<boolean>((r) => server.once('error', () => r(false)).listen(port, HOST, () => r(true)));
    if (ok) {
      await new Promise<void>((r) => server.close(() => r()));
      return port;
    }
  }
}

/** Waits until something accepts TCP connections on the port (SIPp has started). */
async function tcpReady(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect({ host: HOST, port });
      s.once('connect', () => (s.destroy(), r(true))).once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on TCP ${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function track(p: SippProcess): SippProcess {
  cleanup.push(() => p.kill());
  return p;
}

/** Our stack as a presence server: 200 + Expires to SUBSCRIBE, after `answerDelayMs`. */
async function presenceServer(answerDelayMs = 0, expires = '600') {
  const received: SipMessage[] = [];
  const transactions: NonInviteServerTransaction[] = [];
  const transport = await SipTransport.listen({ host: HOST });
  const layer = new TransactionLayer(transport, {
    onRequest(request, tx) {
      received.push(request);
      transactions.push(tx);
      const answer = () => void tx.respond(request.method === 'SUBSCRIBE' ? 200 : 405, { headers: [['Expires', expires]] });
      if (answerDelayMs > 0) setTimeout(answer, answerDelayMs);
      else answer();
    },
  });
  cleanup.push(
    () => transport.close(),
    () => layer.close(),
  );
  return { transport, layer, received, transactions };
}

describe.skipIf(!HAVE_SIPP)('SIPp interop', () => {
  it('(a) our NOTIFY over UDP is answered 200 OK by SIPp as UAS', async () => {
    const sippPort = await freeUdpTcpPort();
    const sipp = track(startSipp({ scenario: NOTIFY_UAS, args: ['-i', HOST, '-p', String(sippPort), '-t', 'u1', '-m', '1'], deadlineMs: 15_000 }));
    const { layer } = await presenceServer();
    // SIPp may still be starting: Timer E retransmissions cover that, as they would a lost datagram.
    const tx = layer.request(
      {
        method: 'NOTIFY',
        requestUri: `sip:watcher@${HOST}:${sippPort}`,
        from: { uri: 'sip:alice@example.com', tag: 'pa1' },
        to: { uri: 'sip:watcher@example.com', tag: 'wt1' },
        callId: `notify-${Date.now()}@${HOST}`,
        cseq: 1,
        contact: `sip:presence@${HOST}`,
        headers: [
          ['Event', 'presence'],
          ['Subscription-State', 'active;expires=600'],
        ],
        body: '<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:alice@example.com"><tuple id="t"><status><basic>open</basic></status></tuple></presence>',
        contentType: 'application/pidf+xml',
      },
      { transport: 'udp', host: HOST, port: sippPort },
    );
    const outcome = await tx.outcome;
    expect(outcome.kind).toBe('response');
    if (outcome.kind !== 'response') return;
    expect(outcome.response.status).toBe(200);
    expect(outcome.response.cseq).toEqual({ seq: 1, method: 'NOTIFY' });
    expect(outcome.response.topVia?.branch).toBe(tx.branch);
    const result = await sipp.done;
    expect(result, `sipp exit ${result.code}: ${result.errors}`).toMatchObject({ code: 0 });
  }, 20_000);

  it('(a) our NOTIFY over TCP is answered 200 OK by SIPp as UAS on the connection we opened', async () => {
    const sippPort = await freeUdpTcpPort();
    const sipp = track(startSipp({ scenario: NOTIFY_UAS, args: ['-i', HOST, '-p', String(sippPort), '-t', 't1', '-m', '1'], deadlineMs: 15_000 }));
    const { transport, layer } = await presenceServer();
    await tcpReady(sippPort, 10_000);
    const tx = layer.request(
      {
        method: 'NOTIFY',
        requestUri: `sip:watcher@${HOST}:${sippPort};transport=tcp`,
        from: { uri: 'sip:alice@example.com', tag: 'pa2' },
        to: { uri: 'sip:watcher@example.com', tag: 'wt2' },
        callId: `notify-tcp-${Date.now()}@${HOST}`,
        cseq: 2,
        headers: [
          ['Event', 'presence'],
          ['Subscription-State', 'terminated;reason=timeout'],
        ],
        body: '<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:alice@example.com"/>',
        contentType: 'application/pidf+xml',
      },
      { transport: 'tcp', host: HOST, port: sippPort },
    );
    const outcome = await tx.outcome;
    expect(outcome.kind === 'response' && outcome.response.status).toBe(200);
    expect(tx.sentAt).toHaveLength(1); // no retransmission over TCP
    expect(transport.stats.tcpConnectionsOpened).toBe(1);
    expect(transport.stats.received.tcp).toBe(1);
    const result = await sipp.done;
    expect(result, `sipp exit ${result.code}: ${result.errors}`).toMatchObject({ code: 0 });
  }, 20_000);

  it('(b) SIPp as UAC over UDP: SUBSCRIBE answered 200 by our server transaction', async () => {
    const { transport, received } = await presenceServer();
    const result = await runUac(SUBSCRIBE_UAC, transport.port, 'u1');
    expect(result, `sipp exit ${result.code}: ${result.errors}`).toMatchObject({ code: 0 });
    expect(received.map((r) => [r.method, r.event?.package, r.expires])).toEqual([['SUBSCRIBE', 'presence', 600]]);
  }, 20_000);

  it('(b) SIPp retransmits the SUBSCRIBE while we are slow: the TU sees it once, the copies are absorbed', async () => {
    const { transport, received, transactions } = await presenceServer(400);
    const result = await runUac(SUBSCRIBE_RETRANSMITTING_UAC, transport.port, 'u1');
    expect(result, `sipp exit ${result.code}: ${result.errors}`).toMatchObject({ code: 0 });
    expect(received).toHaveLength(1);
    // SIPp sends at 0, 50, 150, 350 ms before our 200 at 400 ms.
    expect(transactions[0]!.absorbedRequests).toBeGreaterThanOrEqual(2);
    expect(transport.stats.received.udp).toBe(1 + transactions[0]!.absorbedRequests);
    expect(transport.stats.sent.udp).toBe(1); // nothing to repeat while Trying
    expect(transactions[0]!.state).toBe('completed'); // absorbing until Timer J
  }, 20_000);

  it('(b) the harness can fail: SIPp rejects a 200 without the Expires its scenario checks', async () => {
    const { transport, received } = await presenceServer(0, '300');
    const result = await runUac(SUBSCRIBE_UAC, transport.port, 'u1');
    expect(received).toHaveLength(1);
    expect(result.code).toBe(1); // SIPp: at least one call failed
  }, 20_000);

  it('(b) SIPp as UAC over TCP: SUBSCRIBE answered 200 on the connection SIPp opened', async () => {
    const { transport, received } = await presenceServer();
    const result = await runUac(SUBSCRIBE_UAC, transport.port, 't1');
    expect(result, `sipp exit ${result.code}: ${result.errors}`).toMatchObject({ code: 0 });
    expect(received).toHaveLength(1);
    expect(transport.stats.received.tcp).toBe(1);
    expect(transport.stats.sent.tcp).toBe(1);
    expect(transport.stats.tcpConnectionsAccepted).toBe(1);
    expect(transport.stats.tcpConnectionsOpened).toBe(0);
  }, 20_000);
});
