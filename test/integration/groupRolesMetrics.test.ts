// The admin ports of the roles that had none (group presence, group service,
// group presence API, locator, console), each started as an operator does (`presence run … --admin-port 0`):
// /readyz says why it is not ready, then 200 once the role can answer; /livez 200;
// /metrics has the role's series and they move when the role works. The group
// presence process also shows librdkafka's statistics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import type { Group } from '../../schemas/generated/records.ts';
import { adminUrlIn, scrape, seriesValue } from '../support/adminScrape.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { startMemberProcess, type MemberProcess } from '../support/memberProcess.ts';
import { freeUdpPort } from '../support/ports.ts';
import { eventually } from '../support/wait.ts';

const s = isolatedSettings('group-roles-metrics', 2);
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const run = `${Date.now().toString(36)}${process.pid}`;
const schema = `it_roles_metrics_${process.pid}`;
const procs: MemberProcess[] = [];
let producer: RecordProducer;
// Statistics every second, so the librdkafka series appear within the test's waits.
const ENV = { PRESENCE_DATABASE_URL: testDatabaseUrl, PRESENCE_KAFKA_STATISTICS_INTERVAL_MS: '1000' };

async function start(id: string, args: string[], ready: RegExp, env: Record<string, string> = {}): Promise<{ p: MemberProcess; admin: string }> {
  const p = await startMemberProcess(s, id, [...args, '--admin-port', '0'], ready, { ...ENV, ...env });
  procs.push(p);
  await p.waitFor(/admin on http/, 30_000);
  return { p, admin: adminUrlIn(p.lines.map((l) => l.text).join('\n'))! };
}

const status = async (url: string) => {
  const r = await fetch(url);
  return { status: r.status, body: (await r.json()) as { status: string; reason?: string } };
};
const ready200 = (admin: string, timeoutMs = 90_000) =>
  eventually(`GET ${admin}/readyz 200`, async () => (await fetch(`${admin}/readyz`)).status === 200, { timeoutMs, intervalMs: 300 });

/** A port nothing listens on (TCP connect refused): a Kafka that is down. */
const deadKafka = async () => `127.0.0.1:${await freeUdpPort()}`;

beforeAll(async () => {
  await applyIsolated(s);
  await serde.loadIds();
  producer = new RecordProducer(s.kafka.brokers, 'it-group-roles-metrics', 15_000);
  await producer.connect();
}, 90_000);

afterAll(async () => {
  for (const p of procs) await p.stop('SIGTERM').catch(() => p.stop('SIGKILL'));
  await producer?.close();
  await dropSchema(schema).catch(() => {});
  await dropSchema(`${schema}_api`).catch(() => {});
  await cleanupIsolated(s);
}, 90_000);

describe('admin ports of group presence, group service, locator and console', () => {
  it('group presence: starting, then ready with both halves; a group record moves its series; librdkafka statistics appear', async () => {
    const { admin } = await start('gp-metrics', ['group-presence', '--member-id', `gpm-${run}`, '--stats-interval', '60'], /admin on http/);
    const early = await status(`${admin}/readyz`);
    // Both halves join and restore first: never ready at once.
    expect(early.status).toBe(503);
    expect(early.body.reason).toMatch(/starting|restoring|not running/);
    await ready200(admin);
    expect((await fetch(`${admin}/livez`)).status).toBe(200);
    const before = await scrape(admin);
    expect(seriesValue(before, 'presence_group_presence_inputs_total{kind="group"}')).toBe(0);
    expect(seriesValue(before, 'presence_group_presence_groups')).toBe(0);

    const g: Group = {
      groupId: `g-${run}`,
      version: 1,
      uri: `sip:g-${run}@groups.example.net`,
      name: 'Fleet',
      attributes: {},
      members: [],
      adminPolicy: 'members-only',
      updatedAt: Date.now(),
    };
    await producer.send(topicName(s.topics.prefix, 'groups'), g.groupId, serde.encode('groups', g));
    const after = await eventually(
      'the group record applied and committed',
      async () => {
        const text = await scrape(admin);
        return seriesValue(text, 'presence_group_presence_inputs_total{kind="group"}') === 1 &&
          (seriesValue(text, 'presence_group_presence_transactions_total{half="groups"}') ?? 0) >= 1
          ? text
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 300 },
    );
    expect(seriesValue(after, 'presence_group_presence_groups')).toBe(1);
    expect(seriesValue(after, 'presence_group_presence_records_total{half="groups"}')).toBeGreaterThanOrEqual(1);
    expect(seriesValue(after, 'presence_group_presence_partitions{half="groups",state="live"}')).toBeGreaterThan(0);

    // librdkafka's statistics: a broker round trip measured; the groups consumer fetched the
    // record (its received count moved) and is at the end of the groups topic (lag 0).
    const groupsTopic = topicName(s.topics.prefix, 'groups');
    const lagOf = new RegExp(
      `^presence_kafka_consumer_lag\\{client="group-presence-[^"]+",topic="${groupsTopic.replace(/[.]/g, '\\.')}",partition="\\d+"\\} (\\d+)$`,
      'gm',
    );
    const stats = await eventually(
      'librdkafka statistics in /metrics',
      async () => {
        const text = await scrape(admin);
        return /^presence_kafka_broker_rtt_seconds\{.*stat="avg"\} /m.test(text) && [...text.matchAll(lagOf)].length > 0 ? text : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect([...stats.matchAll(lagOf)].map((m) => Number(m[1]))).toEqual(expect.arrayContaining([0]));
    expect(stats).toMatch(/^presence_kafka_broker_up\{client="group-presence-gpm-[^"]+#consumer-\d+",broker="[^"]+"\} 1$/m);
    expect(stats).toMatch(/^presence_kafka_transaction_state\{client="[^"]+#producer-\d+",state="[A-Za-z]+"\} 1$/m);
    const received = /^presence_kafka_client_received_messages_total\{client="group-presence-[^"]+#consumer-\d+",type="consumer"\} (\d+)$/m.exec(stats);
    expect(Number(received?.[1])).toBeGreaterThanOrEqual(1);
  }, 180_000);

  it('group service: ready when its database answers; API answers and the outbox relay counted', async () => {
    const { p, admin } = await start('gs-metrics', ['group-service', '--port', '0', '--schema', schema, '--no-directory'], /admin on http/);
    await p.waitFor(/group service on http/, 60_000);
    await ready200(admin, 30_000);
    const url = /group service on (http:\/\/\S+?)\/groups/.exec(p.lines.map((l) => l.text).join('\n'))![1]!;
    const created = await fetch(`${url}/groups`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: `gm-${run}`, uri: `sip:gm-${run}@groups.example.net`, name: 'Metrics' }),
    });
    expect(created.status).toBe(201);
    expect((await fetch(`${url}/groups/nope-${run}`)).status).toBe(404);
    const text = await eventually(
      'the change relayed to Kafka',
      async () => {
        const t = await scrape(admin);
        return (seriesValue(t, 'presence_group_service_outbox_published_total') ?? 0) >= 1 && seriesValue(t, 'presence_group_service_outbox_backlog') === 0
          ? t
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 300 },
    );
    expect(seriesValue(text, 'presence_group_service_http_responses_total{route="POST groups",code="201"}')).toBe(1);
    expect(seriesValue(text, 'presence_group_service_http_responses_total{route="GET group",code="404"}')).toBe(1);
    expect(seriesValue(text, 'presence_group_service_http_request_seconds_count')).toBe(2);
    expect(seriesValue(text, 'presence_group_service_relay_failures_total')).toBe(0);
    // No group id in any label.
    expect(text).not.toContain(`gm-${run}`);
  }, 120_000);

  it('group presence API: ready once listening with its table; keeps the group presence documents, answers counted', async () => {
    const { p, admin } = await start('gpa-metrics', ['group-presence-api', '--port', '0', '--schema', `${schema}_api`, '--no-directory'], /admin on http/);
    await p.waitFor(/group presence API on http/, 60_000);
    await ready200(admin, 30_000);
    // The first test's group presence process published a document for its group: the sink reads it from the start.
    await eventually(
      'the group presence document stored',
      async () => (seriesValue(await scrape(admin), 'presence_group_presence_api_records_total{result="stored"}') ?? 0) >= 1,
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const api = /group presence API on (http:\/\/\S+?)\/groups/.exec(p.lines.map((l) => l.text).join('\n'))![1]!;
    expect((await fetch(`${api}/groups/nope-${run}/presence?watcher=${encodeURIComponent('sip:w@example.net')}`)).status).toBe(404);
    const text = await scrape(admin);
    expect(seriesValue(text, 'presence_group_presence_api_http_responses_total{route="presence",code="404"}')).toBe(1);
    expect(seriesValue(text, 'presence_group_presence_api_store_failures_total')).toBe(0);
    expect(seriesValue(text, 'presence_group_presence_api_http_request_seconds_count')).toBe(1);
  }, 120_000);

  it('locator: not ready while Kafka does not answer, ready when it does; answers counted by route and code', async () => {
    const down = await start('loc-down', ['locator', '--port', '0'], /locator listening/, { PRESENCE_KAFKA_BROKERS: await deadKafka() });
    const notReady = await eventually(
      'the locator says why it is not ready',
      async () => {
        const r = await status(`${down.admin}/readyz`);
        return r.status === 503 && /does not answer/.test(r.body.reason ?? '') ? r : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(notReady.body.reason).toMatch(/Kafka at 127\.0\.0\.1:\d+ does not answer/);
    expect(seriesValue(await scrape(down.admin), 'presence_locator_ready')).toBe(0);

    const up = await start('loc-up', ['locator', '--port', '0'], /locator listening/);
    await ready200(up.admin, 30_000);
    const api = /locator listening on (http:\/\/\S+?)\/locate/.exec(up.p.lines.map((l) => l.text).join('\n'))![1]!;
    expect((await fetch(`${api}/locate/not-an-identity`)).status).toBe(400);
    expect((await fetch(`${api}/healthz`)).status).toBe(200);
    const text = await scrape(up.admin);
    expect(seriesValue(text, 'presence_locator_http_responses_total{route="locate",code="400"}')).toBe(1);
    expect(seriesValue(text, 'presence_locator_http_responses_total{route="healthz",code="200"}')).toBe(1);
    expect(seriesValue(text, 'presence_locator_http_request_seconds_count')).toBe(2);
    expect(seriesValue(text, 'presence_locator_ready')).toBe(1);
  }, 120_000);

  it('console: not ready while its feed cannot read Kafka, ready when it reads', async () => {
    const down = await start('console-down', ['console', '--port', '0', '--no-directory'], /console on http/, { PRESENCE_KAFKA_BROKERS: await deadKafka() });
    const r = await status(`${down.admin}/readyz`);
    expect(r.status).toBe(503);
    expect(r.body.reason).toMatch(/not readable/);
    expect(seriesValue(await scrape(down.admin), 'presence_console_kafka_up')).toBe(0);

    const up = await start('console-up', ['console', '--port', '0', '--no-directory'], /console on http/);
    await ready200(up.admin, 60_000);
    const text = await scrape(up.admin);
    expect(seriesValue(text, 'presence_console_kafka_up')).toBe(1);
    expect(seriesValue(text, 'presence_console_streams')).toBe(0);
    expect(seriesValue(text, 'presence_console_flow_records_total{flow="presenceChanges"}')).toBe(0);
  }, 120_000);
});
