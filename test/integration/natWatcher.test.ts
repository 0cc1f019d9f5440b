// A watcher behind NAT gets its NOTIFYs end to end (issue 11 items 1 and 2).
// The handset runs in a network namespace the test makes (test/support/
// natNamespace.ts): masquerading NAT with remapped source ports, and only
// packets of flows it opened get in — no TCP, nothing from the sink's own
// address. It SUBSCRIBEs over UDP to the real front end, whose Subscription
// goes through Kafka to a real event manager; the real notify sink sends the
// NOTIFYs. They must reach the handset from the front end's address, the
// small first NOTIFY and one over 1,300 bytes (a PUBLISHed PIDF), and the
// delivery reports must say they went over the watcher's UDP flow. Then a
// handset whose UDP port is public but that drops TCP SYNs: a big NOTIFY gets
// to it over UDP once the sink's TCP connect times out.
import { createSocket, type Socket } from 'node:dgram';
import type { ChildProcess } from 'node:child_process';
import Kafka from 'node-rdkafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSipMessage } from '../../protocols/decode/sip/index.ts';
import { startSipFrontEnd, type SipFrontEnd } from '../../front-end/sipFrontEnd.ts';
import { startNotifySink, type NotifySink } from '../../connectors/sinks/notify/notifySink.ts';
import { NotifyDeliverer } from '../../connectors/sinks/notify/deliverer.ts';
import { Semaphore } from '../../connectors/sinks/notify/scheduling.ts';
import { TransactionLayer } from '../../protocols/sip/transaction/index.ts';
import { SipTransport } from '../../protocols/sip/transport/transport.ts';
import { notifyRecord } from '../support/notifyRecords.ts';
import type { DeliveryReport } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { connectConsumer, consumeBatch, disconnect, type Consumer } from '../../kafka/rdkafkaPromises.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { natNamespace, natNamespaceUnavailable, type NatNamespace } from '../support/natNamespace.ts';
import { pidfBody } from '../support/signalingEvents.ts';
import { eventually } from '../support/wait.ts';

const unavailable = natNamespaceUnavailable();
const PARTITIONS = 2;
const base = isolatedSettings('natwatch', PARTITIONS);
const s = { ...base, database: { ...base.database, url: testDatabaseUrl }, eventManager: { ...base.eventManager, timerClock: 'wall' as const } };
const rulesSchema = `it_nat_rules_${process.pid}`;
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const run = `${Date.now().toString(36)}${process.pid}`;
const PRESENTITY_URI = 'tel:+351910000088';
const CALL_ID = `nat-${run}`;

/** The handset: a UDP SIP UA that SUBSCRIBEs once, answers every request 200 by its top Via, and prints what it gets as JSON lines. */
const HANDSET = `
import { createSocket } from 'node:dgram';
const [feHost, fePort, ip, aor, callId, lifeMs] = process.argv.slice(1);
const s = createSocket('udp4');
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
s.on('message', (b, r) => {
  const text = b.toString('latin1');
  const cut = text.indexOf('\\r\\n\\r\\n');
  const lines = text.slice(0, cut).split('\\r\\n');
  const body = text.slice(cut + 4);
  const from = r.address + ':' + r.port;
  if (lines[0].startsWith('SIP/2.0')) return out({ kind: 'response', status: Number(lines[0].split(' ')[1]), from });
  const hdr = (n) => lines.filter((l) => l.toLowerCase().startsWith(n + ':')).map((l) => l.slice(l.indexOf(':') + 1).trim());
  out({ kind: 'request', method: lines[0].split(' ')[0], from, cseq: hdr('cseq')[0], state: hdr('subscription-state')[0], bodyBytes: body.length });
  const vias = hdr('via');
  const top = vias[0].split(',')[0];
  const sentBy = /SIP\\/2\\.0\\/UDP\\s+([^;:\\s]+)(?::(\\d+))?/i.exec(top);
  const host = /;received=([^;\\s,]+)/.exec(top)?.[1] ?? sentBy[1];
  const port = Number(/;rport=(\\d+)/.exec(top)?.[1] ?? sentBy[2] ?? 5060);
  const res = ['SIP/2.0 200 OK', ...vias.map((v) => 'Via: ' + v), 'From: ' + hdr('from')[0], 'To: ' + hdr('to')[0], 'Call-ID: ' + hdr('call-id')[0], 'CSeq: ' + hdr('cseq')[0], 'Content-Length: 0', '', ''].join('\\r\\n');
  s.send(res, port, host);
});
s.bind(5070, ip, () => {
  const req = ['SUBSCRIBE ' + aor + ' SIP/2.0', 'Via: SIP/2.0/UDP ' + ip + ':5070;rport;branch=z9hG4bK-' + callId, 'Max-Forwards: 70',
    'From: <sip:watcher@example.com>;tag=nw1', 'To: <' + aor + '>', 'Call-ID: ' + callId, 'CSeq: 1 SUBSCRIBE', 'Contact: <sip:watcher@' + ip + ':5070>',
    'Event: presence', 'Expires: 600', 'Content-Length: 0', '', ''].join('\\r\\n');
  s.send(req, Number(fePort), feHost);
});
setTimeout(() => process.exit(0), Number(lifeMs));
`;

interface HandsetLine {
  kind: 'request' | 'response';
  from: string;
  status?: number;
  method?: string;
  cseq?: string;
  bodyBytes?: number;
}

let nat: NatNamespace | undefined;
let em: EventManager | undefined;
let fe: SipFrontEnd | undefined;
let sink: NotifySink | undefined;
let handset: ChildProcess | undefined;
let reportsConsumer: Consumer | undefined;
let publisher: Socket | undefined;
const lines: HandsetLine[] = [];
const reports: DeliveryReport[] = [];
let reading = false;
let readLoop: Promise<void> = Promise.resolve();

beforeAll(async () => {
  if (unavailable) return;
  nat = natNamespace('nw');
  await applyIsolated(s);
  await serde.loadIds();
  em = await startEventManager(s, { memberId: `em-nat-${run}`, rulesSchema });
  fe = await startSipFrontEnd(s, { host: nat.hostIp, port: 0, frontEndId: `fe-nat-${run}`, groups: false });
  sink = await startNotifySink(s, { host: nat.hostIp, port: 0, t1Ms: 100, retry: { maxAttempts: 2, backoffBaseMs: 200, backoffMaxMs: 500 }, drainMs: 1000 });
  reportsConsumer = new Kafka.KafkaConsumer(
    { 'metadata.broker.list': s.kafka.brokers, 'group.id': `it-nat-${run}`, 'enable.auto.commit': false, 'isolation.level': 'read_committed' },
    {},
  );
  await connectConsumer(reportsConsumer, 10_000);
  reportsConsumer.setDefaultConsumeTimeout(100);
  reportsConsumer.assign(
    Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: topicName(s.topics.prefix, 'delivery-reports'), partition, offset: 0 })),
  );
  reading = true;
  const c = reportsConsumer;
  readLoop = (async () => {
    while (reading) for (const m of await consumeBatch(c, 100)) reports.push(await serde.decode('delivery-reports', m.value!));
  })();
}, 120_000);

afterAll(async () => {
  reading = false;
  await readLoop.catch(() => {});
  if (reportsConsumer) await disconnect(reportsConsumer);
  publisher?.close();
  handset?.kill('SIGKILL');
  await sink?.stop();
  await fe?.stop();
  await em?.stop();
  nat?.close();
  if (!unavailable) {
    await cleanupIsolated(s);
    await dropSchema(rulesSchema);
  }
}, 60_000);

describe.skipIf(unavailable)('a watcher behind NAT (network namespace, masquerade, inbound only on its own flows)', () => {
  it('gets its NOTIFYs from the front end it subscribed to, small and over 1,300 bytes, reported as flow/udp', async () => {
    const n = nat!;
    handset = n.node(HANDSET, [n.hostIp, String(fe!.port), n.innerIp, PRESENTITY_URI, CALL_ID, '90000']);
    let buffered = '';
    handset.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
        lines.push(JSON.parse(buffered.slice(0, i)) as HandsetLine);
        buffered = buffered.slice(i + 1);
      }
    });
    const feAddress = `${n.hostIp}:${fe!.port}`;
    const notifies = () => lines.filter((l) => l.kind === 'request' && l.method === 'NOTIFY');
    await eventually('the 200 to the SUBSCRIBE', () => lines.find((l) => l.kind === 'response' && l.status === 200), { timeoutMs: 15_000, intervalMs: 50 });
    await eventually(`the first NOTIFY (handset got ${JSON.stringify(lines)})`, () => notifies()[0], { timeoutMs: 60_000, intervalMs: 100 });

    // A PUBLISH with a PIDF over 1,300 bytes: the NOTIFY it causes is too big for UDP (§18.1.1).
    publisher = createSocket('udp4');
    await new Promise<void>((r) => publisher!.bind(0, '127.0.0.1', r));
    const answers: number[] = [];
    publisher.on('message', (b) => answers.push(parseSipMessage(b).status ?? 0));
    const note = 'On the road between two cells, reachable by SMS only; '.repeat(28);
    const body = pidfBody(note).replace('entity="sip:telephone2@172.16.98.101"', `entity="${PRESENTITY_URI}"`);
    const port = publisher.address().port;
    publisher.send(
      `PUBLISH ${PRESENTITY_URI} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-pub-${run}\r\nMax-Forwards: 70\r\n` +
        `From: <${PRESENTITY_URI}>;tag=pub${run}\r\nTo: <${PRESENTITY_URI}>\r\nCall-ID: pub-${run}\r\nCSeq: 1 PUBLISH\r\nEvent: presence\r\nExpires: 600\r\n` +
        `Content-Type: application/pidf+xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      fe!.port,
      n.hostIp,
    );
    await eventually('the 200 to the PUBLISH', () => answers.includes(200), { timeoutMs: 20_000, intervalMs: 50 });
    const big = await eventually(`a NOTIFY over 1,300 bytes (handset got ${JSON.stringify(notifies())})`, () => notifies().find((l) => l.bodyBytes! > 1300), {
      timeoutMs: 60_000,
      intervalMs: 100,
    });
    expect(big.from).toBe(feAddress);
    expect(notifies().every((l) => l.from === feAddress)).toBe(true);

    // Every NOTIFY of the dialog was reported delivered over the handset's UDP flow.
    const mine = await eventually(
      'delivery reports for both NOTIFYs',
      () => {
        const r = reports.filter((x) => x.callId === CALL_ID);
        return r.length >= notifies().length && r.length >= 2 ? r : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(mine.map((r) => [r.outcome, r.transport])).toEqual(mine.map(() => ['delivered', 'flow/udp']));
    expect(fe!.statsLine()).toMatch(/flows: flowRoutes 1, relayedRequests \d+/);

    // The control: the same NOTIFY from any other address (here a socket of the host's) never reaches the handset.
    const before = lines.length;
    const probe = createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, n.hostIp, r));
    probe.send(
      `OPTIONS sip:watcher@${n.innerIp}:5070 SIP/2.0\r\nVia: SIP/2.0/UDP ${n.hostIp}:${probe.address().port};branch=z9hG4bK-probe\r\n\r\n`,
      5070,
      n.innerIp,
    );
    await new Promise((r) => setTimeout(r, 500));
    probe.close();
    expect(lines.slice(before)).toEqual([]);
  }, 180_000);
});

/** A handset with a public UDP port and no TCP: answers every request 200 to the packet's source, prints the transport it came over. */
const UDP_ONLY = `
import { createSocket } from 'node:dgram';
const [ip, lifeMs] = process.argv.slice(1);
const s = createSocket('udp4');
s.on('message', (b, r) => {
  const text = b.toString('latin1');
  const lines = text.slice(0, text.indexOf('\\r\\n\\r\\n')).split('\\r\\n');
  if (lines[0].startsWith('SIP/2.0')) return;
  process.stdout.write(JSON.stringify({ method: lines[0].split(' ')[0], bytes: b.length }) + '\\n');
  const keep = lines.filter((l) => /^(via|from|to|call-id|cseq):/i.test(l));
  s.send(['SIP/2.0 200 OK', ...keep, 'Content-Length: 0', '', ''].join('\\r\\n'), r.port, r.address);
});
s.bind(5070, ip);
setTimeout(() => process.exit(0), Number(lifeMs));
`;

describe.skipIf(unavailable)('a handset that drops TCP SYNs silently (NAT, firewall)', () => {
  it('gets a NOTIFY over 1,300 bytes over UDP once the TCP connect times out', async () => {
    const open = natNamespace('nu', { openUdp: true });
    const transport = await SipTransport.listen({ host: open.hostIp, port: 0, tcpConnectTimeoutMs: 1000 });
    const layer = new TransactionLayer(transport, { onRequest: () => {} }, { timers: { T1: 100 } });
    const child = open.node(UDP_ONLY, [open.innerIp, '30000']);
    try {
      const got: Array<{ method: string; bytes: number }> = [];
      child.stdout!.on('data', (d: Buffer) =>
        got.push(
          ...d
            .toString()
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l)),
        ),
      );
      await new Promise((r) => setTimeout(r, 300)); // the handset binds
      const deliverer = new NotifyDeliverer({
        layer,
        contact: `sip:${open.hostIp}:${transport.port}`,
        semaphore: new Semaphore(1),
        policy: { maxAttempts: 1, backoffBaseMs: 10, backoffMaxMs: 10, retryAfterMaxMs: 10, unansweredMaxAttempts: 1 },
      });
      const started = Date.now();
      const r = await deliverer.deliver(notifyRecord({ requestUri: `sip:watcher@${open.innerIp}:5070`, body: `<note>${'x'.repeat(1400)}</note>` }));
      const tookMs = Date.now() - started;
      expect(r).toMatchObject({ outcome: 'delivered', statusCode: 200, attempts: 1, transport: 'udp' });
      expect(transport.stats.tcpConnectTimeouts).toBe(1);
      expect(got).toEqual([{ method: 'NOTIFY', bytes: expect.any(Number) }]);
      expect(got[0]!.bytes).toBeGreaterThan(1300);
      expect(tookMs).toBeGreaterThanOrEqual(1000);
      expect(tookMs).toBeLessThan(5000);
    } finally {
      layer.close();
      await transport.close();
      open.close();
    }
  }, 60_000);
});
