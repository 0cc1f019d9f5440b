// `presence run notify-sink --admin-port 0`: /readyz 503 while it starts, 200
// once it consumes; its /metrics count NOTIFY outcomes, retries, dead letters
// and the delivery latency when a live watcher (answers 200) and a dead one
// (nothing listens: retried, then given up) are sent NOTIFYs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { adminUrlIn, scrape, seriesValue } from '../support/adminScrape.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { startMemberProcess, type MemberProcess } from '../support/memberProcess.ts';
import { notifyRecord } from '../support/notifyRecords.ts';
import { freeUdpPort } from '../support/ports.ts';
import { StrictWatcher } from '../support/strictWatcher.ts';
import { eventually } from '../support/wait.ts';

const HOST = '127.0.0.1';
const s = isolatedSettings('notify-metrics', 4);
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const run = `${Date.now().toString(36)}${process.pid}`;
let sink: MemberProcess | undefined;
let producer: RecordProducer;
let watcher: StrictWatcher;

beforeAll(async () => {
  await applyIsolated(s);
  await serde.loadIds();
  producer = new RecordProducer(s.kafka.brokers, 'it-notify-metrics', 15_000);
  await producer.connect();
  watcher = await StrictWatcher.open();
}, 60_000);

afterAll(async () => {
  await sink?.stop('SIGTERM').catch(() => sink?.stop('SIGKILL'));
  await producer?.close();
  await watcher?.close();
  await cleanupIsolated(s);
}, 60_000);

describe('notify sink admin port', () => {
  it('is ready once consuming; outcomes, retries, dead letters and delivery latency move with NOTIFYs', async () => {
    sink = await startMemberProcess(
      s,
      'notify-metrics',
      [
        'notify-sink',
        '--member-id',
        `nm-${run}`,
        '--port',
        '0',
        '--admin-port',
        '0',
        '--t1-ms',
        '50',
        '--max-attempts',
        '2',
        '--backoff-ms',
        '100',
        '--stats-interval',
        '60',
      ],
      /admin on http/,
      // librdkafka statistics every second, so they appear and move within the waits below.
      { PRESENCE_NOTIFY_CONTACT: 'sip:127.0.0.1:5999', PRESENCE_KAFKA_STATISTICS_INTERVAL_MS: '1000' },
    );
    const admin = adminUrlIn(sink.lines.map((l) => l.text).join('\n'))!;
    const starting = await fetch(`${admin}/readyz`);
    expect(starting.status).toBe(503);
    expect(((await starting.json()) as { reason: string }).reason).toMatch(/starting/);
    await eventually('GET /readyz 200', async () => (await fetch(`${admin}/readyz`)).status === 200, { timeoutMs: 60_000, intervalMs: 250 });
    expect((await fetch(`${admin}/livez`)).status).toBe(200);

    const before = await scrape(admin);
    expect(seriesValue(before, 'presence_notify_requests_consumed_total')).toBe(0);
    expect(seriesValue(before, 'presence_notify_outcomes_total{outcome="delivered"}')).toBe(0);
    expect(seriesValue(before, 'presence_notify_delivery_seconds_count{outcome="delivered"}')).toBe(0);
    expect(seriesValue(before, 'presence_notify_pending')).toBe(0);

    const dead = await freeUdpPort(HOST);
    const topic = topicName(s.topics.prefix, 'notify-requests');
    const live = notifyRecord({
      notifyId: `live-${run}`,
      callId: `live-${run}`,
      cseq: 5,
      requestUri: `sip:watcher@${HOST}:${watcher.port}`,
      createdAt: Date.now(),
    });
    const gone = notifyRecord({ notifyId: `dead-${run}`, callId: `dead-${run}`, cseq: 5, requestUri: `sip:watcher@${HOST}:${dead}`, createdAt: Date.now() });
    await producer.send(topic, live.presentity, serde.encode('notify-requests', live));
    await producer.send(topic, 'msisdn:+351910000002', serde.encode('notify-requests', { ...gone, presentity: 'msisdn:+351910000002' }));

    const after = await eventually(
      'both NOTIFYs finished in /metrics',
      async () => {
        const text = await scrape(admin);
        return (seriesValue(text, 'presence_notify_outcomes_total{outcome="delivered"}') ?? 0) +
          (seriesValue(text, 'presence_notify_outcomes_total{outcome="gave-up"}') ?? 0) ===
          2
          ? text
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(watcher.received.map((r) => r.status)).toEqual([200]);
    expect(seriesValue(after, 'presence_notify_requests_consumed_total')).toBe(2);
    expect(seriesValue(after, 'presence_notify_outcomes_total{outcome="delivered"}')).toBe(1);
    expect(seriesValue(after, 'presence_notify_outcomes_total{outcome="gave-up"}')).toBe(1);
    expect(seriesValue(after, 'presence_notify_attempts_total')).toBe(3);
    expect(seriesValue(after, 'presence_notify_retries_total')).toBe(1);
    expect(seriesValue(after, 'presence_notify_delivery_seconds_count{outcome="delivered"}')).toBe(1);
    expect(seriesValue(after, 'presence_notify_delivery_seconds_bucket{outcome="delivered",le="1"}')).toBe(1);
    expect(seriesValue(after, 'presence_notify_delivery_seconds_count{outcome="gave-up"}')).toBe(1);
    await eventually(
      'the report and the dead letter recorded',
      async () => {
        const text = await scrape(admin);
        return seriesValue(text, 'presence_notify_delivery_reports_total') === 2 && seriesValue(text, 'presence_notify_dead_letters_total') === 1;
      },
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    // librdkafka's own statistics: the sink's consumer fetched both requests and is at the end
    // of its partitions; its producer sent the reports and the dead letter (3 messages); round trips measured.
    const sent = (text: string) =>
      [...text.matchAll(/^presence_kafka_client_transmitted_messages_total\{client="notify-sink-[^"]+#producer-\d+",type="producer"\} (\d+)$/gm)].reduce(
        (n, m) => n + Number(m[1]),
        0,
      );
    const lagOf = new RegExp(`^presence_kafka_consumer_lag\\{client="[^"]+",topic="${topic.replace(/[.]/g, '\\.')}",partition="\\d+"\\} (\\d+)$`, 'gm');
    await eventually(
      "the sink's librdkafka statistics moved",
      async () => {
        const text = await scrape(admin);
        const received = /^presence_kafka_client_received_messages_total\{client="[^"]+#consumer-\d+",type="consumer"\} (\d+)$/m.exec(text);
        const lags = [...text.matchAll(lagOf)];
        return (
          sent(text) >= 3 &&
          Number(received?.[1] ?? 0) >= 2 &&
          /^presence_kafka_broker_rtt_seconds\{[^}]*stat="avg"\} /m.test(text) &&
          lags.length > 0 &&
          lags.every((m) => m[1] === '0')
        );
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
  }, 120_000);
});
