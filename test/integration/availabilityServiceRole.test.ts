// `presence run availability-service --admin-port 0` as an operator starts it (a
// child process): /readyz 200 once its database answers, the profiles API on
// --port, a change relayed to availability-profiles and counted on /metrics (no
// subscriber in any label), and a clean stop on SIGTERM.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordSerde } from '../../schemas/serde.ts';
import { PROFESSIONAL } from '../support/availabilityProfiles.ts';
import { adminUrlIn, scrape, seriesValue } from '../support/adminScrape.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { startMemberProcess, type MemberProcess } from '../support/memberProcess.ts';
import { readTopic } from '../support/topicReader.ts';
import { eventually } from '../support/wait.ts';

const s = isolatedSettings('avsvc-role', 2);
const schema = `it_avsvc_role_${process.pid}`;
const KEY = 'msisdn:+33600000081';
let proc: MemberProcess | undefined;

beforeAll(async () => {
  await applyIsolated(s);
}, 90_000);

afterAll(async () => {
  await proc?.stop('SIGTERM').catch(() => proc?.stop('SIGKILL'));
  await dropSchema(schema).catch(() => {});
  await cleanupIsolated(s);
}, 90_000);

describe('presence run availability-service', () => {
  it('ready when its database answers; a change through its API is relayed and counted; stops on SIGTERM', async () => {
    proc = await startMemberProcess(s, 'avsvc-role', ['availability-service', '--port', '0', '--schema', schema, '--admin-port', '0'], /admin on http/, {
      PRESENCE_DATABASE_URL: testDatabaseUrl,
    });
    const p = proc;
    await p.waitFor(/availability service on http/, 60_000);
    const text = () => p.lines.map((l) => l.text).join('\n');
    const admin = adminUrlIn(text())!;
    await eventually(`GET ${admin}/readyz 200`, async () => (await fetch(`${admin}/readyz`)).status === 200, { timeoutMs: 30_000, intervalMs: 300 });
    expect((await fetch(`${admin}/livez`)).status).toBe(200);
    const api = /availability service on (http:\/\/\S+?)\/subscribers/.exec(text())![1]!;
    expect(text()).toContain(`changes to ${s.topics.prefix}availability-profiles`);

    const put = await fetch(`${api}/subscribers/${encodeURIComponent(KEY)}/profiles`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(PROFESSIONAL),
    });
    expect(put.status).toBe(200);
    const bad = await fetch(`${api}/subscribers/${encodeURIComponent(KEY)}/profiles/activation`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ profile: 'holiday' }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ field: 'active' });

    const metrics = await eventually(
      'the change relayed',
      async () => {
        const t = await scrape(admin);
        return (seriesValue(t, 'presence_availability_service_outbox_published_total') ?? 0) >= 1 &&
          seriesValue(t, 'presence_availability_service_outbox_backlog') === 0
          ? t
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 300 },
    );
    expect(seriesValue(metrics, 'presence_availability_service_http_responses_total{route="PUT profiles",code="200"}')).toBe(1);
    expect(seriesValue(metrics, 'presence_availability_service_http_responses_total{route="POST activation",code="400"}')).toBe(1);
    expect(seriesValue(metrics, 'presence_availability_service_relay_failures_total')).toBe(0);
    expect(metrics).not.toContain('33600000081');

    // On the topic: keyed by the subscriber, the profiles as stored.
    const serde = new RecordSerde(s.registry.url, s.topics.prefix);
    await serde.loadIds();
    const [m] = await readTopic({
      brokers: s.kafka.brokers,
      topic: topicName(s.topics.prefix, 'availability-profiles'),
      partitions: 2,
      count: 1,
      timeoutMs: 20_000,
    });
    expect(m!.key!.toString()).toBe(KEY);
    const record = await serde.decode('availability-profiles', m!.value!);
    expect(record).toMatchObject({ subscriber: KEY, cause: 'profiles', previous: expect.any(String) });
    expect(JSON.parse(record.profiles)).toEqual(PROFESSIONAL);

    await p.stop('SIGTERM', 20_000);
    expect(text()).toMatch(/stopping \(SIGTERM\); outbox backlog 0, published 1/);
    proc = undefined;
  }, 150_000);
});
