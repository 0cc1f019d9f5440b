// No watcher lost to the transport choice (RFC 3261 §18.1.1): a NOTIFY too
// big for UDP goes over TCP, but a watcher that subscribed over UDP and
// accepts no TCP (most handsets) still gets it, over UDP. Real sockets on
// loopback: the sink's SipTransport and a bare UDP watcher with no TCP
// listener, so the kernel refuses the connection as it would for a handset.
import { afterEach, describe, expect, it } from 'vitest';
import { parseSipMessage } from '../../../protocols/decode/sip/index.ts';
import { buildResponse, serialize } from '../../../protocols/sip/message/index.ts';
import { TransactionLayer } from '../../../protocols/sip/transaction/index.ts';
import { SipTransport } from '../../../protocols/sip/transport/transport.ts';
import { notifyRecord } from '../../../test/support/notifyRecords.ts';
import { rawUdpPeer } from '../../../test/support/udpInbox.ts';
import { NotifyDeliverer } from './deliverer.ts';
import { Semaphore } from './scheduling.ts';

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** A PIDF over 1,300 bytes (the handsets: 10 publications per presentity). */
const bigPidf = () =>
  `<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:+351910000001@ims.example.net">` +
  Array.from({ length: 12 }, (_, i) => `<tuple id="t${i}"><status><basic>open</basic></status><note>publication ${i} of the presentity</note></tuple>`).join(
    '',
  ) +
  `</presence>`;

/** The sink's side: a real transport, transaction layer and deliverer. */
async function sink(o: { udpMaxRequestBytes?: number } = {}) {
  const transport = await SipTransport.listen({ host: '127.0.0.1', port: 0, tcpConnectTimeoutMs: 1000 });
  const layer = new TransactionLayer(transport, { onRequest: () => {} }, { timers: { T1: 100 }, ...o });
  closers.push(async () => {
    layer.close();
    await transport.close();
  });
  const deliverer = new NotifyDeliverer({
    layer,
    contact: `sip:127.0.0.1:${transport.port}`,
    semaphore: new Semaphore(4),
    policy: { maxAttempts: 2, backoffBaseMs: 10, backoffMaxMs: 10, retryAfterMaxMs: 10, unansweredMaxAttempts: 2 },
  });
  return { transport, deliverer };
}

/** A UDP-only watcher (no TCP listener on its port) answering 200 to every NOTIFY. */
async function udpWatcher() {
  const peer = await rawUdpPeer();
  closers.push(() => new Promise<void>((r) => peer.socket.close(() => r())));
  peer.socket.on('message', (data, rinfo) => {
    const m = parseSipMessage(data);
    if (m.isRequest) peer.socket.send(serialize(buildResponse(m, 200)), rinfo.port, rinfo.address);
  });
  return peer;
}

describe('NOTIFY transport choice', () => {
  it('a NOTIFY over 1,300 bytes to a watcher refusing TCP is delivered over UDP, and the report says so', async () => {
    const { transport, deliverer } = await sink();
    const w = await udpWatcher();
    const n = notifyRecord({ requestUri: `sip:watcher@127.0.0.1:${w.port}`, body: bigPidf() });
    const r = await deliverer.deliver(n);
    expect(r).toMatchObject({ outcome: 'delivered', statusCode: 200, attempts: 1, transport: 'udp' });
    expect(transport.stats.tcpConnectionsOpened).toBe(1); // TCP tried first, as §18.1.1 asks
    expect(deliverer.stats.udpFallbacks).toBe(1);
    const got = w.datagrams.map((d) => parseSipMessage(d.data)).filter((m) => m.method === 'NOTIFY');
    expect(got).toHaveLength(1);
    expect(got[0]!.body.length).toBeGreaterThan(1300);
    expect(got[0]!.topVia?.transport).toBe('UDP');

    // The next big NOTIFY to that watcher goes over UDP at once: no second connection attempt.
    const again = await deliverer.deliver({ ...n, notifyId: 'n-2', cseq: 8 });
    expect(again).toMatchObject({ outcome: 'delivered', transport: 'udp' });
    expect(transport.stats.tcpConnectionsOpened).toBe(1);
  });

  it('a group multipart/related NOTIFY falls back to UDP the same way', async () => {
    const { deliverer } = await sink();
    const w = await udpWatcher();
    const boundary = 'b1';
    const body =
      `--${boundary}\r\nContent-Type: application/rlmi+xml\r\nContent-ID: <rlmi@x>\r\n\r\n<list xmlns="urn:ietf:params:xml:ns:rlmi" uri="sip:g@x" version="1" fullState="true"/>\r\n` +
      `--${boundary}\r\nContent-Type: application/pidf+xml\r\nContent-ID: <m1@x>\r\n\r\n${bigPidf()}\r\n--${boundary}--\r\n`;
    const r = await deliverer.deliver(
      notifyRecord({
        presentity: 'group:g1',
        requestUri: `sip:watcher@127.0.0.1:${w.port}`,
        contentType: `multipart/related;type="application/rlmi+xml";start="<rlmi@x>";boundary=${boundary}`,
        body,
      }),
    );
    expect(r).toMatchObject({ outcome: 'delivered', transport: 'udp' });
    const got = w.datagrams.map((d) => parseSipMessage(d.data)).find((m) => m.method === 'NOTIFY')!;
    expect(got.headers.get('require')).toBe('eventlist');
    expect(got.headers.get('content-type')).toMatch(/^multipart\/related/);
  });

  it('the size threshold is a setting: with 4,000 bytes the same NOTIFY goes over UDP without trying TCP', async () => {
    const { transport, deliverer } = await sink({ udpMaxRequestBytes: 4000 });
    const w = await udpWatcher();
    const r = await deliverer.deliver(notifyRecord({ requestUri: `sip:watcher@127.0.0.1:${w.port}`, body: bigPidf() }));
    expect(r).toMatchObject({ outcome: 'delivered', transport: 'udp' });
    expect(transport.stats.tcpConnectionsOpened).toBe(0);
    expect(deliverer.stats.udpFallbacks).toBe(0);
  });

  it('a watcher that accepts TCP gets its big NOTIFY over TCP, reported as tcp', async () => {
    const { deliverer } = await sink();
    const watcher = await SipTransport.listen({ host: '127.0.0.1', port: 0 });
    closers.push(() => watcher.close());
    watcher.onMessage((m, source) => {
      if (m.isRequest) void watcher.send(buildResponse(m, 200), { transport: source.transport, host: source.address, port: source.port }, { reuseOnly: true });
    });
    const r = await deliverer.deliver(notifyRecord({ requestUri: `sip:watcher@127.0.0.1:${watcher.port}`, body: bigPidf() }));
    expect(r).toMatchObject({ outcome: 'delivered', transport: 'tcp' });
    expect(deliverer.stats.udpFallbacks).toBe(0);
  });
});
