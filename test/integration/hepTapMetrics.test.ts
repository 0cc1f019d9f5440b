// `presence tap hep --admin-port 0` with an authentication key required: /readyz
// 200 once listening and connected; /metrics count packets by transport and by
// capture agent, drops by reason (missing and wrong keys), and the events published.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerOverHep } from '../support/sipOverHep.ts';
import { adminUrlIn, scrape, seriesValue } from '../support/adminScrape.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';
import { startMemberProcess, type MemberProcess } from '../support/memberProcess.ts';
import { sendDatagrams } from '../support/udpSend.ts';
import { eventually } from '../support/wait.ts';

const s = isolatedSettings('hep-metrics', 4);
const KEY = 'hep-metrics-key';
let tap: MemberProcess | undefined;

function register(i: number, captureId: number, authKey?: string): Buffer {
  return registerOverHep(i, { msisdnPrefix: '+35191234560', tag: 'm', captureId, ...(authKey !== undefined ? { authKey } : {}) });
}

beforeAll(async () => {
  await applyIsolated(s);
}, 60_000);

afterAll(async () => {
  await tap?.stop('SIGTERM').catch(() => tap?.stop('SIGKILL'));
  await cleanupIsolated(s);
}, 60_000);

describe('HEP tap admin port', () => {
  it('counts packets by transport and agent, drops by reason, and events published', async () => {
    tap = await startMemberProcess(
      s,
      'hep-metrics',
      ['hep', '--port', '0', '--admin-port', '0', '--unknown', 'keep', '--no-directory', '--stats-interval', '60'],
      /HEP collector listening on udp\+tcp 127\.0\.0\.1:\d+/,
      { PRESENCE_HEP_AUTH_KEY: KEY },
      'tap',
    );
    const text = tap.lines.map((l) => l.text).join('\n');
    const admin = adminUrlIn(text)!;
    const port = Number(/listening on udp\+tcp 127\.0\.0\.1:(\d+)/.exec(text)![1]);
    await eventually('GET /readyz 200', async () => (await fetch(`${admin}/readyz`)).status === 200, { timeoutMs: 30_000, intervalMs: 250 });
    const before = await scrape(admin);
    expect(seriesValue(before, 'presence_hep_packets_total{transport="udp"}')).toBe(0);
    expect(seriesValue(before, 'presence_hep_events_total')).toBe(0);
    expect(before).toContain('# TYPE presence_hep_packets_by_agent_total counter');

    await sendDatagrams(port, [register(1, 101, KEY), register(2, 101, KEY), register(3, 202, KEY), register(4, 101), register(5, 202, 'wrong')]);
    const after = await eventually(
      'the packets counted and their events published',
      async () => {
        const t = await scrape(admin);
        return seriesValue(t, 'presence_hep_packets_total{transport="udp"}') === 5 && seriesValue(t, 'presence_hep_events_total') === 3 ? t : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    expect(seriesValue(after, 'presence_hep_packets_by_agent_total{agent="101"}')).toBe(2);
    expect(seriesValue(after, 'presence_hep_packets_by_agent_total{agent="202"}')).toBe(1);
    expect(seriesValue(after, 'presence_hep_dropped_total{reason="unauthenticated-missing"}')).toBe(1);
    expect(seriesValue(after, 'presence_hep_dropped_total{reason="unauthenticated-wrong"}')).toBe(1);
    expect(seriesValue(after, 'presence_hep_signals_total')).toBe(3);
  }, 90_000);
});
