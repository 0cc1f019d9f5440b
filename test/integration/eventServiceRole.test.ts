// `presence run event-service` as an operator starts it: the admin port from its
// setting (PRESENCE_EVENT_SERVICE_ADMIN_PORT, as every role's; the flag alone left the
// pods' probes knocking on a loopback listener), /readyz 200 once the database answers,
// /livez, and /metrics with its series.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminUrlIn, scrape, seriesValue } from '../support/adminScrape.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';
import { startMemberProcess, type MemberProcess } from '../support/memberProcess.ts';
import { eventually } from '../support/wait.ts';

const s = isolatedSettings('evsvc-role', 2);
const schema = `it_evsvc_role_${process.pid}`;
let proc: MemberProcess | undefined;

beforeAll(async () => {
  await applyIsolated(s);
}, 90_000);

afterAll(async () => {
  await proc?.stop('SIGTERM').catch(() => proc?.stop('SIGKILL'));
  await dropSchema(schema);
  await cleanupIsolated(s);
}, 90_000);

describe('presence run event-service', () => {
  it('opens its admin port from PRESENCE_EVENT_SERVICE_ADMIN_PORT on PRESENCE_ADMIN_HOST: ready when the database answers, with its metrics', async () => {
    proc = await startMemberProcess(s, 'evsvc-role', ['event-service', '--port', '0', '--schema', schema, '--stats-interval', '60'], /event service on http/, {
      PRESENCE_DATABASE_URL: testDatabaseUrl,
      PRESENCE_EVENT_SERVICE_ADMIN_PORT: '0',
      PRESENCE_ADMIN_HOST: '127.0.0.2',
    });
    const admin = adminUrlIn(proc.lines.map((l) => l.text).join('\n'))!;
    expect(admin).toMatch(/^http:\/\/127\.0\.0\.2:\d+$/);
    await eventually('GET /readyz 200', async () => (await fetch(`${admin}/readyz`)).status === 200 || undefined, { timeoutMs: 30_000, intervalMs: 300 });
    expect((await fetch(`${admin}/livez`)).status).toBe(200);
    const text = await scrape(admin);
    expect(seriesValue(text, 'presence_event_service_events_logged_total')).toBe(0);
    expect(seriesValue(text, 'presence_event_service_dead_letters_total')).toBe(0);
  }, 120_000);
});
