// NAT-friendly NOTIFYs on real sockets over loopback, without Kafka: a
// watcher whose "NAT" lets in only packets from the address it sent its
// SUBSCRIBE to (its socket drops everything else, and its Contact names an
// address nobody listens on, as a private address behind NAT would be)
// SUBSCRIBEs to a front end; the recorded route set is handed to the notify
// sink's deliverer as the event manager would, and the NOTIFYs must arrive
// from the front end's address, small and large, with the answer relayed
// back. A front end that cannot use the flow answers 430 and the sink
// delivers directly.
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSipMessage, type SipMessage } from '../protocols/decode/sip/index.ts';
import { buildResponse, serialize } from '../protocols/sip/message/index.ts';
import { TransactionLayer } from '../protocols/sip/transaction/index.ts';
import { SipTransport } from '../protocols/sip/transport/transport.ts';
import type { Subscription } from '../schemas/generated/records.ts';
import { NotifyDeliverer } from '../connectors/sinks/notify/deliverer.ts';
import { Semaphore } from '../connectors/sinks/notify/scheduling.ts';
import { notifyRecord } from '../test/support/notifyRecords.ts';
import { eventually } from '../test/support/wait.ts';
import { FlowRelay } from './flowRelay.ts';
import { SipFrontEnd } from './sipFrontEnd.ts';
import { presentityKey } from './subscribeHandler.ts';

const HOST = '127.0.0.1';
/** Where the watcher's Contact points: on loopback, but nobody listens there (a private address seen from outside). */
const HIDDEN = '127.0.0.2';
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function frontEnd(secret = Buffer.from('flow-test-secret')) {
  const recorded: Subscription[] = [];
  const flows = new FlowRelay({ secret });
  const fe = await SipFrontEnd.start({
    host: HOST,
    port: 0,
    frontEndId: 'fe-flow',
    resolveKey: (u) => presentityKey(u, { countryCode: '351' }),
    sink: { record: async (_k, v) => void recorded.push(v) },
    flows,
  });
  cleanup.push(() => fe.stop());
  return { fe, flows, recorded };
}

async function sink() {
  const transport = await SipTransport.listen({ host: HOST, port: 0, tcpConnectTimeoutMs: 1000 });
  const layer = new TransactionLayer(transport, { onRequest: () => {} }, { timers: { T1: 100 } });
  cleanup.push(async () => {
    layer.close();
    await transport.close();
  });
  const deliverer = new NotifyDeliverer({
    layer,
    contact: `sip:${HOST}:${transport.port}`,
    semaphore: new Semaphore(4),
    policy: { maxAttempts: 1, backoffBaseMs: 10, backoffMaxMs: 10, retryAfterMaxMs: 10, unansweredMaxAttempts: 1 },
  });
  return { transport, deliverer };
}

/** A watcher behind "NAT": accepts datagrams only from `allowed()` (the address it sent to), answers NOTIFYs 200 by Via. */
async function natWatcher(allowed: () => { address: string; port: number }) {
  const socket: Socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, HOST, r));
  cleanup.push(() => new Promise<void>((r) => socket.close(() => r())));
  const notifies: Array<{ message: SipMessage; from: string }> = [];
  const responses: SipMessage[] = [];
  let dropped = 0;
  socket.on('message', (data, rinfo) => {
    const a = allowed();
    if (rinfo.address !== a.address || rinfo.port !== a.port) return void dropped++;
    const m = parseSipMessage(data);
    if (!m.isRequest) return void responses.push(m);
    notifies.push({ message: m, from: `${rinfo.address}:${rinfo.port}` });
    const via = m.topVia!;
    socket.send(serialize(buildResponse(m, 200)), typeof via.rport === 'number' ? via.rport : (via.port ?? 5060), via.received ?? via.host);
  });
  const port = socket.address().port;
  const subscribe = (fePort: number) =>
    socket.send(
      `SUBSCRIBE sip:+351910000001@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.7:5070;rport;branch=z9hG4bKnat1\r\n` +
        `From: <sip:watcher@example.com>;tag=w1\r\nTo: <sip:+351910000001@example.com;user=phone>\r\nCall-ID: nat-1@watcher\r\nCSeq: 1 SUBSCRIBE\r\n` +
        `Contact: <sip:watcher@${HIDDEN}:5070>\r\nMax-Forwards: 70\r\nEvent: presence\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n`,
      fePort,
      HOST,
    );
  return { port, notifies, responses, subscribe, dropped: () => dropped };
}

const bigPidf = () =>
  `<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:+351910000001@example.com">` +
  Array.from({ length: 12 }, (_, i) => `<tuple id="t${i}"><status><basic>open</basic></status><note>publication ${i} of the presentity</note></tuple>`).join(
    '',
  ) +
  `</presence>`;

/** The NotifyRequest an event manager makes from the recorded SUBSCRIBE. */
const notifyFor = (sub: Subscription, over: Parameters<typeof notifyRecord>[0] = {}) =>
  notifyRecord({ callId: sub.callId, remoteTag: sub.watcherTag, localTag: sub.localTag!, requestUri: sub.contact, routeSet: sub.routeSet, ...over });

describe('flow relay (NOTIFYs from the address the SUBSCRIBE reached)', () => {
  it('records the flow in the route set and relays NOTIFYs, small and over 1,300 bytes, from the front end to the watcher', async () => {
    const { fe, flows, recorded } = await frontEnd();
    const w = await natWatcher(() => ({ address: HOST, port: fe.port }));
    w.subscribe(fe.port);
    await eventually('the 200', () => w.responses.find((r) => r.status === 200), { timeoutMs: 3000, intervalMs: 10 });
    const sub = recorded[0]!;
    expect(sub.routeSet).toHaveLength(1);
    expect(sub.routeSet[0]).toMatch(new RegExp(`^<sip:[\\w.-]+@127\\.0\\.0\\.1:${fe.port};lr;flow=udp>$`));

    const { deliverer } = await sink();
    const small = await deliverer.deliver(notifyFor(sub));
    expect(small).toMatchObject({ outcome: 'delivered', statusCode: 200, transport: 'flow/udp' });
    const big = await deliverer.deliver(notifyFor(sub, { notifyId: 'n-2', cseq: 8, body: bigPidf() }));
    expect(big).toMatchObject({ outcome: 'delivered', statusCode: 200, transport: 'flow/udp' });

    expect(w.notifies.map((n) => n.from)).toEqual([`${HOST}:${fe.port}`, `${HOST}:${fe.port}`]);
    const [first, second] = w.notifies.map((n) => n.message);
    expect(first!.headers.get('route')).toBeUndefined(); // the front end popped its Route (§16.4)
    expect(first!.headers.list('via')).toHaveLength(2); // the front end's Via over the sink's (§16.6)
    expect(first!.topVia).toMatchObject({ host: HOST, port: fe.port, transport: 'UDP' });
    expect(first!.requestUri).toBe(`sip:watcher@${HIDDEN}:5070`);
    expect(second!.body.length).toBeGreaterThan(1300);
    expect(flows.stats).toMatchObject({ flowRoutes: 1, relayedRequests: 2, relayedResponses: 2, flowFailed: 0 });
    expect(w.dropped()).toBe(0);
  });

  it('a flow token the front end did not mint is answered 430, and the sink then delivers directly', async () => {
    const { fe, recorded } = await frontEnd();
    // This watcher is not behind NAT: it takes packets from anyone, so direct delivery reaches it.
    const w = await natWatcher(() => ({ address: HOST, port: fe.port }));
    w.subscribe(fe.port);
    await eventually('the 200', () => recorded[0], { timeoutMs: 3000, intervalMs: 10 });
    const { fe: other } = await frontEnd(Buffer.from('another secret'));
    const forged = recorded[0]!.routeSet[0]!.replace(`:${fe.port};`, `:${other.port};`);
    const direct = await createSocket('udp4');
    await new Promise<void>((r) => direct.bind(0, HOST, r));
    cleanup.push(() => new Promise<void>((r) => direct.close(() => r())));
    direct.on('message', (data, rinfo) => {
      const m = parseSipMessage(data);
      if (m.isRequest) direct.send(serialize(buildResponse(m, 200)), rinfo.port, rinfo.address);
    });
    const { deliverer } = await sink();
    const r = await deliverer.deliver(notifyFor(recorded[0]!, { routeSet: [forged], requestUri: `sip:watcher@${HOST}:${direct.address().port}` }));
    expect(r).toMatchObject({ outcome: 'delivered', transport: 'udp', attempts: 2 });
    expect(deliverer.stats.flowFallbacks).toBe(1);
    expect(w.notifies).toHaveLength(0);
  });

  it('a watcher that asks for no symmetric routing (no rport, no ob, no outbound) gets no flow route; ob or outbound get one', async () => {
    const { fe, recorded } = await frontEnd();
    const s: Socket = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, HOST, r));
    cleanup.push(() => new Promise<void>((r) => s.close(() => r())));
    const send = (n: number, contactParams: string, extra: string) =>
      s.send(
        `SUBSCRIBE sip:+351910000001@example.com SIP/2.0\r\nVia: SIP/2.0/UDP ${HOST}:${s.address().port};branch=z9hG4bKs${n}\r\n` +
          `From: <sip:watcher@example.com>;tag=w${n}\r\nTo: <sip:+351910000001@example.com;user=phone>\r\nCall-ID: sym-${n}@watcher\r\nCSeq: 1 SUBSCRIBE\r\n` +
          `Contact: <sip:watcher@${HOST}:5999${contactParams}>\r\n${extra}Max-Forwards: 70\r\nEvent: presence\r\nContent-Length: 0\r\n\r\n`,
        fe.port,
        HOST,
      );
    send(1, '', '');
    send(2, ';ob', '');
    send(3, '', 'Supported: outbound\r\n');
    await eventually('three records', () => recorded.length === 3, { timeoutMs: 3000, intervalMs: 10 });
    const byCall = Object.fromEntries(recorded.map((r) => [r.callId, r.routeSet.length]));
    expect(byCall).toEqual({ 'sym-1@watcher': 0, 'sym-2@watcher': 1, 'sym-3@watcher': 1 });
  });

  it('a TCP flow: NOTIFYs go back over the connection the watcher opened; once it is gone, 430 and the sink tries directly', async () => {
    const { fe, flows, recorded } = await frontEnd();
    const watcher = await SipTransport.listen({ host: HOST, port: 0 });
    cleanup.push(() => watcher.close());
    const got: SipMessage[] = [];
    watcher.onMessage((m, source) => {
      if (!m.isRequest) return;
      got.push(m);
      void watcher.send(buildResponse(m, 200), { transport: 'tcp', host: source.address, port: source.port }, { reuseOnly: true });
    });
    await watcher.send(
      Buffer.from(
        `SUBSCRIBE sip:+351910000001@example.com SIP/2.0\r\nVia: SIP/2.0/TCP ${HIDDEN}:5070;branch=z9hG4bKtcp1\r\n` +
          `From: <sip:watcher@example.com>;tag=wt\r\nTo: <sip:+351910000001@example.com;user=phone>\r\nCall-ID: tcp-1@watcher\r\nCSeq: 1 SUBSCRIBE\r\n` +
          `Contact: <sip:watcher@${HIDDEN}:5070;transport=tcp;ob>\r\nMax-Forwards: 70\r\nEvent: presence\r\nContent-Length: 0\r\n\r\n`,
      ),
      { transport: 'tcp', host: HOST, port: fe.port },
    );
    await eventually('the record', () => recorded[0], { timeoutMs: 3000, intervalMs: 10 });
    expect(recorded[0]!.routeSet[0]).toMatch(/;lr;flow=tcp>$/);
    const { deliverer } = await sink();
    expect(await deliverer.deliver(notifyFor(recorded[0]!))).toMatchObject({ outcome: 'delivered', transport: 'flow/tcp' });
    expect(got.map((m) => m.method)).toEqual(['NOTIFY']);

    await watcher.close(); // the handset's connection is gone: the front end must not open a new one towards it
    const r = await deliverer.deliver(notifyFor(recorded[0]!, { notifyId: 'n-2', cseq: 8 }));
    expect(flows.stats.flowFailed).toBe(1);
    expect(deliverer.stats.flowFallbacks).toBe(1);
    expect(r).toMatchObject({ outcome: 'gave-up', transport: 'tcp', attempts: 2 }); // nobody listens at the Contact either
  });

  it('a SUBSCRIBE that came through a proxy (two Vias) gets no flow route: NOTIFYs go as before', async () => {
    const { fe, recorded } = await frontEnd();
    const s: Socket = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, HOST, r));
    cleanup.push(() => new Promise<void>((r) => s.close(() => r())));
    s.send(
      `SUBSCRIBE sip:+351910000001@example.com SIP/2.0\r\nVia: SIP/2.0/UDP ${HOST}:${s.address().port};branch=z9hG4bKp1\r\nVia: SIP/2.0/UDP 10.0.0.7:5070;branch=z9hG4bKw1\r\n` +
        `From: <sip:watcher@example.com>;tag=w1\r\nTo: <sip:+351910000001@example.com;user=phone>\r\nCall-ID: px-1@watcher\r\nCSeq: 1 SUBSCRIBE\r\n` +
        `Contact: <sip:watcher@${HIDDEN}:5070>\r\nMax-Forwards: 70\r\nEvent: presence\r\nContent-Length: 0\r\n\r\n`,
      fe.port,
      HOST,
    );
    await eventually('the record', () => recorded[0], { timeoutMs: 3000, intervalMs: 10 });
    expect(recorded[0]!.routeSet).toEqual([]);
  });
});
