// `presence run event-manager --admin-port 0` as an operator runs it: /readyz is
// 503 with a reason while it starts, 200 once its partitions are restored; its
// /metrics carry the documented series (README, Operations → Metrics and health)
// and they move when records go through: records by kind, transactions, dead
// letters by reason, restores, subscribers and dialogs per partition, group lag.
// Its embedded front end also takes SIP over TLS (--sip-tls-port, the SIP
// certificate settings) and advertises that sips: contact.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCertificateAuthority, type IssuedCertificate } from '../../infra/local/testCertificates.ts';
import { MemberReportsView } from '../../coordinator/memberReportsReader.ts';
import { peerCertificate } from '../support/tlsPeer.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { EVENT_MANAGER_INPUTS } from '../../streams/event-manager/eventManager.ts';
import { adminUrlIn, scrape, seriesValue } from '../support/adminScrape.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { startMemberProcess, type MemberProcess } from '../support/memberProcess.ts';
import { mapEvent } from '../support/signalingEvents.ts';
import { subscriptionRecord } from '../support/subscriptionRecords.ts';
import { eventually } from '../support/wait.ts';

const s = isolatedSettings('em-metrics', 4);
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const A = 'msisdn:+351910000071';
let member: MemberProcess | undefined;
let producer: RecordProducer;
const certDir = mkdtempSync(path.join(tmpdir(), 'it-em-metrics-'));
let ca: Buffer;
let sipCert: IssuedCertificate;

/** Sum of every series of `name` (any labels). */
function total(text: string, name: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

beforeAll(async () => {
  await applyIsolated(s);
  await serde.loadIds();
  producer = new RecordProducer(s.kafka.brokers, 'it-em-metrics', 15_000);
  await producer.connect();
  const authority = await createTestCertificateAuthority(certDir);
  ca = readFileSync(authority.caFile);
  sipCert = await authority.issue('member-sip', ['127.0.0.1']);
}, 60_000);

afterAll(async () => {
  await member?.stop('SIGTERM').catch(() => member?.stop('SIGKILL'));
  await producer?.close();
  await cleanupIsolated(s);
  rmSync(certDir, { recursive: true, force: true });
}, 60_000);

describe('event manager admin port', () => {
  it('is not ready while starting, ready once restored; its metrics exist and move with traffic', async () => {
    member = await startMemberProcess(
      s,
      'em-metrics',
      [
        'event-manager',
        '--member-id',
        'em-metrics-1',
        '--admin-port',
        '0',
        '--sip-port',
        '0',
        '--sip-tls-port',
        '0',
        '--no-sip-directory',
        '--stats-interval',
        '60',
      ],
      /admin on http/,
      // librdkafka statistics every second, so they appear and move within the waits below.
      { PRESENCE_KAFKA_STATISTICS_INTERVAL_MS: '1000', PRESENCE_SIP_TLS_CERT_FILE: sipCert.certFile, PRESENCE_SIP_TLS_KEY_FILE: sipCert.keyFile },
    );
    const admin = adminUrlIn(member.lines.map((l) => l.text).join('\n'))!;
    expect(admin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    // Up before Kafka is reached: live, and not ready with a reason.
    expect((await fetch(`${admin}/livez`)).status).toBe(200);
    const starting = await fetch(`${admin}/readyz`);
    expect(starting.status).toBe(503);
    expect(((await starting.json()) as { reason: string }).reason).toMatch(/starting|restoring/);

    await eventually('GET /readyz 200', async () => (await fetch(`${admin}/readyz`)).status === 200, { timeoutMs: 60_000, intervalMs: 250 });
    // With --sip-port the member's readiness covers its embedded SIP front end too.
    const ready = (await (await fetch(`${admin}/readyz`)).json()) as Record<string, { ready: boolean }>;
    expect(ready.eventManager?.ready).toBe(true);
    expect(ready.sipFrontEnd?.ready).toBe(true);
    // librdkafka's statistics of the member's clients (at least one document per client first).
    const rdBefore = await eventually(
      'librdkafka statistics of the transactional producer',
      async () => {
        const text = await scrape(admin);
        return /^presence_kafka_transaction_state\{client="[^"]+#producer-\d+",state="[A-Za-z]+"\} 1$/m.test(text) ? text : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    const producerSent = (text: string) =>
      [...text.matchAll(/^presence_kafka_client_transmitted_messages_total\{client="[^"]*em-metrics-1[^"]*#producer-\d+",type="producer"\} (\d+)$/gm)].reduce(
        (n, m) => n + Number(m[1]),
        0,
      );
    const before = await scrape(admin);
    expect(seriesValue(before, 'presence_event_manager_records_total')).toBe(0);
    expect(seriesValue(before, 'presence_event_manager_transactions_total')).toBeDefined();
    expect(seriesValue(before, 'presence_event_manager_aborts_total')).toBe(0);
    expect(seriesValue(before, 'presence_event_manager_restores_total')).toBe(4);
    expect(seriesValue(before, 'presence_event_manager_restored_records_total')).toBe(0);
    expect(seriesValue(before, 'presence_event_manager_restore_seconds_total')).toBeGreaterThanOrEqual(0);
    expect(seriesValue(before, 'presence_event_manager_partitions{state="live"}')).toBe(4);
    expect(seriesValue(before, 'presence_event_manager_subscribers{partition="0"}')).toBe(0);
    expect(before).toContain('# TYPE presence_event_manager_dead_letters_total counter');
    expect(before).toContain('process_resident_memory_bytes');
    // The member's own SIP front end (--sip-port) reports on the member's admin port.
    expect(seriesValue(before, 'presence_sip_ready')).toBe(1);
    // --sip-tls-port: its reports carry a sips: contact whose port serves the certificate of the settings.
    const view = await MemberReportsView.open(s);
    const reported = view.ownerOf(0);
    expect(reported?.sipContact).toMatch(/^sip:127\.0\.0\.1:\d+$/);
    expect(reported?.sipsContact).toMatch(/^sips:127\.0\.0\.1:\d+$/);
    const tlsPort = Number(reported!.sipsContact!.split(':')[2]);
    expect(tlsPort).not.toBe(Number(reported!.sipContact!.split(':')[2]));
    expect((await peerCertificate(tlsPort, { ca })).fingerprint256).toBe(new X509Certificate(readFileSync(sipCert.certFile)).fingerprint256);
    await view.close();

    const t = Date.now();
    await producer.send(topicName(s.topics.prefix, 'subscriptions'), A, serde.encode('subscriptions', subscriptionRecord(A, 'metrics-dialog')));
    await producer.send(
      topicName(s.topics.prefix, 'signaling-events'),
      A,
      serde.encode(
        'signaling-events',
        mapEvent(A, 'updateLocation', 'invoke', t, { vlrNumber: '351910999001', mscNumber: '351910999001', opc: 100, dpc: 200 }),
      ),
    );
    // Bytes that are no Avro record of ours: dead-lettered with a reason.
    await producer.send(topicName(s.topics.prefix, 'signaling-events'), A, Buffer.from('not avro'));

    const after = await eventually(
      'the records counted in /metrics',
      async () => {
        const text = await scrape(admin);
        return (seriesValue(text, 'presence_event_manager_records_total') ?? 0) >= 3 && total(text, 'presence_event_manager_dead_letters_total') >= 1
          ? text
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(seriesValue(after, 'presence_event_manager_records_by_kind_total{kind="subscribe"}')).toBe(1);
    expect(seriesValue(after, 'presence_event_manager_records_by_kind_total{kind="signal"}')).toBeGreaterThanOrEqual(1);
    expect(seriesValue(after, 'presence_event_manager_transactions_total')).toBeGreaterThan(0);
    expect(seriesValue(after, 'presence_event_manager_transaction_commit_seconds_count')).toBe(seriesValue(after, 'presence_event_manager_transactions_total'));
    expect(seriesValue(after, 'presence_event_manager_notify_requests_total')).toBeGreaterThanOrEqual(1);
    expect(after).toMatch(/^presence_event_manager_dead_letters_total\{reason="[^"]+"\} 1$/m);
    expect(total(after, 'presence_event_manager_subscribers')).toBe(1);
    expect(total(after, 'presence_event_manager_dialogs')).toBe(1);
    // librdkafka's own: the transactional producer's sent messages moved with the outputs; broker round trips measured.
    await eventually(
      "the member's producer sent its outputs (librdkafka statistics)",
      async () => {
        const text = await scrape(admin);
        return producerSent(text) > producerSent(rdBefore) && /^presence_kafka_broker_rtt_seconds\{[^}]*stat="p99"\} [0-9.e-]+$/m.test(text);
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    // The group's lag per input partition, from the committed offsets: caught up once committed.
    await eventually(
      'lag series for every input partition, all caught up',
      async () => {
        const text = await scrape(admin);
        const lags = text.split('\n').filter((l) => l.startsWith('presence_event_manager_consumer_lag{'));
        return lags.length === EVENT_MANAGER_INPUTS.length * s.topics.partitions && lags.every((l) => l.endsWith(' 0'));
      },
      { timeoutMs: 30_000, intervalMs: 1000 },
    );
  }, 120_000);
});
