import { afterEach, describe, expect, it } from 'vitest';
import { allReady, cachedCheck, startAdminServer, type AdminServer, type HealthCheck } from './adminServer.ts';
import { LatencyHistogram } from './latencyHistogram.ts';
import { byLabel, MetricsRegistry } from './metrics.ts';
import { seriesValue } from '../../test/support/adminScrape.ts';

let admin: AdminServer | undefined;
afterEach(async () => {
  await admin?.close();
  admin = undefined;
});

describe('metrics registry', () => {
  it('reads the stats object at each scrape: counters by label, gauges, histograms with cumulative buckets', async () => {
    const stats = { records: 0, responses: {} as Record<number, number>, inFlight: 3 };
    const latency = new LatencyHistogram([0.01, 0.1]);
    const m = new MetricsRegistry(false);
    m.counter('presence_test_records_total', 'records', () => stats.records);
    m.counter('presence_test_responses_total', 'responses by code', () => byLabel('code', stats.responses));
    m.gauge('presence_test_in_flight', 'in flight', () => stats.inFlight);
    m.histogram('presence_test_latency_seconds', 'latency', () => latency);

    let text = (await m.scrape()).body;
    expect(seriesValue(text, 'presence_test_records_total')).toBe(0);
    expect(text).toContain('# TYPE presence_test_responses_total counter');
    expect(seriesValue(text, 'presence_test_latency_seconds_count')).toBe(0);

    stats.records = 7;
    stats.responses[200] = 2;
    stats.responses[503] = 1;
    latency.observe(0.005);
    latency.observe(0.05);
    latency.observe(3);
    text = (await m.scrape()).body;
    expect(seriesValue(text, 'presence_test_records_total')).toBe(7);
    expect(seriesValue(text, 'presence_test_responses_total{code="503"}')).toBe(1);
    expect(seriesValue(text, 'presence_test_in_flight')).toBe(3);
    expect(seriesValue(text, 'presence_test_latency_seconds_bucket{le="0.01"}')).toBe(1);
    expect(seriesValue(text, 'presence_test_latency_seconds_bucket{le="0.1"}')).toBe(2);
    expect(seriesValue(text, 'presence_test_latency_seconds_bucket{le="+Inf"}')).toBe(3);
    expect(seriesValue(text, 'presence_test_latency_seconds_sum')).toBeCloseTo(3.055);
    expect(text).toContain('# TYPE presence_test_latency_seconds histogram');
  });

  it('refuses names against the conventions', () => {
    const m = new MetricsRegistry(false);
    expect(() => m.counter('presence_records', 'x', () => 0)).toThrow(/_total/);
    expect(() => m.counter('records_total', 'x', () => 0)).toThrow(/presence_/);
    expect(() => m.gauge('presence_x_total', 'x', () => 0)).toThrow(/counter/);
    expect(() => m.histogram('presence_latency_ms', 'x', () => new LatencyHistogram())).toThrow(/_seconds/);
    m.gauge('presence_x', 'x', () => 0);
    expect(() => m.gauge('presence_x', 'x', () => 0)).toThrow(/twice/);
  });
});

describe('admin server', () => {
  it('serves /metrics, /livez, and /readyz 503 with a reason until ready', async () => {
    let ready: HealthCheck = { ok: false, reason: 'partitions restoring', details: { restoring: [1] } };
    const m = new MetricsRegistry();
    m.gauge('presence_test_up', 'x', () => 1);
    admin = await startAdminServer({ host: '127.0.0.1', port: 0, metrics: m, ready: () => ready });

    const metrics = await fetch(`${admin.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0.0.4/);
    const body = await metrics.text();
    expect(seriesValue(body, 'presence_test_up')).toBe(1);
    expect(body).toContain('process_cpu_user_seconds_total');

    expect((await fetch(`${admin.url}/livez`)).status).toBe(200);
    const notReady = await fetch(`${admin.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ status: 'not ready', reason: 'partitions restoring', restoring: [1] });
    ready = { ok: true };
    expect((await fetch(`${admin.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${admin.url}/nope`)).status).toBe(404);
    expect((await fetch(`${admin.url}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('a readiness check that throws is a 503 naming the error', async () => {
    admin = await startAdminServer({
      host: '127.0.0.1',
      port: 0,
      metrics: new MetricsRegistry(false),
      ready: () => {
        throw new Error('broker probe failed');
      },
    });
    const r = await fetch(`${admin.url}/readyz`);
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({ error: 'broker probe failed' });
  });
});

describe('combined and cached checks', () => {
  it('allReady is ready only when every part is, naming the parts that are not', () => {
    expect(
      allReady([
        ['a', { ok: true }],
        ['b', { ok: true, details: { n: 1 } }],
      ]),
    ).toEqual({ ok: true, details: { a: { ready: true }, b: { ready: true, n: 1 } } });
    const no = allReady([
      ['eventManager', { ok: true }],
      ['sipFrontEnd', { ok: false, reason: 'Kafka at x does not answer' }],
    ]);
    expect(no.ok).toBe(false);
    expect(no.reason).toBe('sipFrontEnd: Kafka at x does not answer');
  });

  it('cachedCheck asks at most once per interval and turns a throw into not ready', async () => {
    let calls = 0;
    const c = cachedCheck(async () => {
      calls++;
      if (calls === 1) throw new Error('database down');
      return { ok: true };
    }, 50);
    expect(await c()).toEqual({ ok: false, reason: 'database down' });
    expect(await c()).toEqual({ ok: false, reason: 'database down' });
    expect(calls).toBe(1);
    await new Promise((r) => setTimeout(r, 60));
    expect(await c()).toEqual({ ok: true });
  });
});
