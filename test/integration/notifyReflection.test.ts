// Reflection limits for a vouched-for Contact that answers nothing (RFC 6665
// §9, §4.2.2), on the real broker and registry: a watcher address on loopback
// that drops every datagram. The notify sink (T1 = 50 ms, maxAttempts 4,
// unansweredMaxAttempts 2) gives the NOTIFY up after 2 transactions, within
// 2 × Timer F plus one backoff, having sent a bounded number of datagrams; its
// delivery report ends the watcher dialog without a terminated NOTIFY at that
// address (the event manager's applyDeliveryReport, fed the report as read).
import Kafka from 'node-rdkafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNotifySink, type NotifySink } from '../../connectors/sinks/notify/notifySink.ts';
import { asError, connectConsumer, consumeBatch, disconnect } from '../../kafka/rdkafkaPromises.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import type { DeliveryReport, NotifyRequest } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { applyDeliveryReport, applySubscribe, type WatcherDialog } from '../../streams/event-manager/subscriptions/watcherDialog.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { subscriptionRecord } from '../support/subscriptionRecords.ts';
import { rawUdpPeer } from '../support/udpInbox.ts';

const HOST = '127.0.0.1';
const T1 = 50;
const s = isolatedSettings('notify-reflect', 2);
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const run = `${Date.now().toString(36)}${process.pid}`;

let producer: RecordProducer;
let sink: NotifySink;
let silent: Awaited<ReturnType<typeof rawUdpPeer>>;

beforeAll(async () => {
  await applyIsolated(s);
  await serde.loadIds();
  producer = new RecordProducer(s.kafka.brokers, 'it-notify-reflect', 15_000);
  await producer.connect();
  sink = await startNotifySink(s, {
    host: HOST,
    port: 0,
    t1Ms: T1,
    retry: { maxAttempts: 4, unansweredMaxAttempts: 2, backoffBaseMs: 200, backoffMaxMs: 1000 },
    drainMs: 1000,
  });
  silent = await rawUdpPeer(HOST);
}, 120_000);

afterAll(async () => {
  silent?.socket.close();
  await sink?.stop();
  await producer?.close();
  await cleanupIsolated(s);
});

async function reportOf(notifyId: string, timeoutMs: number): Promise<DeliveryReport> {
  const consumer = new Kafka.KafkaConsumer(
    { 'metadata.broker.list': s.kafka.brokers, 'group.id': `it-reflect-${run}`, 'enable.auto.commit': false, 'isolation.level': 'read_committed' },
    { 'auto.offset.reset': 'earliest' },
  );
  await connectConsumer(consumer, 10_000);
  consumer.setDefaultConsumeTimeout(200);
  const name = topicName(s.topics.prefix, 'delivery-reports');
  consumer.assign([0, 1].map((partition) => ({ topic: name, partition, offset: 0 })));
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      for (const m of await consumeBatch(consumer, 100)) {
        const r = (await serde.decode('delivery-reports', m.value!)) as DeliveryReport;
        if (r.notifyId === notifyId) return r;
      }
      if (Date.now() > deadline) throw new Error(`no delivery report for ${notifyId} within ${timeoutMs} ms`);
    }
  } catch (err) {
    throw asError(err);
  } finally {
    await disconnect(consumer);
  }
}

/** A NOTIFY for a dialog whose Contact is the silent address, vouched for or not: its delivery report, how long it took, its NOTIFY datagrams. */
async function notifyTheSilent(contactVerified: boolean, tag: string) {
  const callId = `reflect-${tag}-${run}@${HOST}`;
  const requestUri = `sip:victim@${HOST}:${silent.port}`;
  const dialogs = new Map<string, WatcherDialog>();
  const now = Date.now();
  const sub = subscriptionRecord('msisdn:+351910000043', callId, {
    contactVerified,
    requestId: `r-${tag}-${run}`,
    receivedAt: now,
    presentityUri: 'sip:+351910000043@ims.example.net',
    expires: 600,
    watcherTag: `w-${tag}`,
    contact: requestUri,
    frontEnd: 'fe-1',
    localTag: null,
  });
  const doc = { contentType: 'application/pidf+xml', body: '<presence>open</presence>' };
  const first = applySubscribe(dialogs, sub, 'allow', doc, doc, now, `pa-${tag}`).notifies;
  expect(first).toHaveLength(1);
  const n: NotifyRequest = first[0]!;
  const sentAt = Date.now();
  await producer.send(topicName(s.topics.prefix, 'notify-requests'), n.presentity, serde.encode('notify-requests', n));
  const report = await reportOf(n.notifyId, 30_000);
  const notifies = silent.datagrams.filter((d) => d.data.toString('latin1').startsWith('NOTIFY ') && d.data.toString('latin1').includes(callId));
  return {
    dialogs,
    n,
    report,
    tookMs: Date.now() - sentAt,
    notifies,
    branches: new Set(notifies.map((d) => /branch=([^;\r\n]+)/.exec(d.data.toString('latin1'))?.[1])).size,
  };
}

describe('a vouched-for Contact that answers nothing', () => {
  it('gets a bounded number of NOTIFY datagrams, is given up on within 2 × Timer F, and its dialog ends without a terminated NOTIFY', async () => {
    // The event manager's side: a dialog with that Contact, vouched for (a proxy forwarded it, say).
    const { dialogs, n, report, tookMs, notifies, branches } = await notifyTheSilent(true, 'vouched');

    expect(report).toMatchObject({ outcome: 'gave-up', statusCode: null, attempts: 2 });
    expect(report.reason).toMatch(/2 unanswered attempts/);
    // Two transactions, each at most 11 UDP sends within Timer F (64·T1): bounded, and far below maxAttempts' 4.
    expect(notifies.length).toBeGreaterThanOrEqual(2);
    expect(notifies.length).toBeLessThanOrEqual(22);
    expect(branches).toBe(2);
    // 2 × Timer F + one 200 ms backoff, plus Kafka's round trips.
    expect(tookMs).toBeLessThan(2 * 64 * T1 + 200 + 10_000);
    expect(sink.deliverer.stats.unanswered).toBeGreaterThanOrEqual(1);

    // The report as read ends the dialog, and nothing more goes to the silent address.
    const ended = applyDeliveryReport(dialogs, n.presentity, report, Date.now());
    expect(ended).toEqual({ changed: true, notifies: [] });
    const before = silent.datagrams.length;
    await new Promise((r) => setTimeout(r, 1000));
    expect(silent.datagrams.length).toBe(before);
  }, 90_000);
});

describe("a Contact nobody vouched for (RFC 6665 §9: it did not match the SUBSCRIBE's source, no trusted proxy between)", () => {
  it('gets one transaction only, never retried, and is given up on within one Timer F', async () => {
    const { report, tookMs, notifies, branches } = await notifyTheSilent(false, 'unvouched');
    expect(report).toMatchObject({ outcome: 'gave-up', statusCode: null, attempts: 1 });
    expect(branches).toBe(1);
    expect(notifies.length).toBeGreaterThanOrEqual(1);
    expect(notifies.length).toBeLessThanOrEqual(11);
    expect(tookMs).toBeLessThan(64 * T1 + 10_000);
  }, 90_000);
});
