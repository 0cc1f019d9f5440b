// `presence run sip-front --admin-port 0` as Kamailio's dispatcher and Prometheus
// see it. With Kafka unreachable (a bogus broker port) it still listens, answers
// OPTIONS and SUBSCRIBE 503 + Retry-After (so the dispatcher takes it out) and
// /readyz 503 naming Kafka; with Kafka up, OPTIONS 200 and /readyz 200, and its
// /metrics count requests by method, responses by code and PUBLISH round trips.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SipMessage } from '../../protocols/decode/sip/index.ts';
import { openSipBranchClient, type SipBranchClient } from '../support/sipUdpClient.ts';
import { adminUrlIn, scrape, seriesValue } from '../support/adminScrape.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';
import { startMemberProcess, type MemberProcess } from '../support/memberProcess.ts';
import { eventually } from '../support/wait.ts';

const HOST = '127.0.0.1';
const s = isolatedSettings('fe-health', 4);
const run = `${Date.now().toString(36)}${process.pid}`;
const procs: MemberProcess[] = [];
let ua: SipBranchClient;
let n = 0;

/** One request over UDP; resolves with its final response (matched by Via branch). */
function request(port: number, method: string, headers: string[] = [], body = ''): Promise<SipMessage> {
  const branch = `z9hG4bK${run}-${++n}`;
  const uri = 'sip:+351910000081@ims.example.net';
  const text =
    `${method} ${uri} SIP/2.0\r\nVia: SIP/2.0/UDP ${HOST}:${ua.port};branch=${branch}\r\nMax-Forwards: 70\r\n` +
    `From: <sip:watcher@example.com>;tag=w${n}\r\nTo: <${uri}>\r\nCall-ID: ${run}-${n}\r\nCSeq: 1 ${method}\r\n` +
    `${headers.map((h) => `${h}\r\n`).join('')}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  return ua.request(text, branch, port);
}

const header = (m: SipMessage, name: string) => m.headers.get(name);

async function startFrontEnd(id: string, env: Record<string, string> = {}): Promise<{ p: MemberProcess; port: number; admin: string }> {
  const p = await startMemberProcess(
    s,
    id,
    ['sip-front', '--port', '0', '--no-directory', '--no-groups', '--admin-port', '0', '--publish-timeout-ms', '300', '--stats-interval', '60'],
    /listening on 127\.0\.0\.1:\d+/,
    env,
  );
  procs.push(p);
  const text = p.lines.map((l) => l.text).join('\n');
  await p.waitFor(/admin on http/, 10_000);
  const admin = adminUrlIn(p.lines.map((l) => l.text).join('\n'))!;
  return { p, port: Number(/listening on 127\.0\.0\.1:(\d+)/.exec(text)![1]), admin };
}

beforeAll(async () => {
  await applyIsolated(s);
  ua = await openSipBranchClient(HOST);
}, 60_000);

afterAll(async () => {
  for (const p of procs) await p.stop('SIGTERM').catch(() => p.stop('SIGKILL'));
  await ua?.close();
  await cleanupIsolated(s);
}, 60_000);

describe('SIP front end health and metrics', () => {
  it('with Kafka unreachable it answers OPTIONS and SUBSCRIBE 503 + Retry-After, and /readyz 503 naming Kafka', async () => {
    const { p, port, admin } = await startFrontEnd('fe-no-kafka', { PRESENCE_KAFKA_BROKERS: '127.0.0.1:1' });
    const options = await request(port, 'OPTIONS');
    expect(options.status).toBe(503);
    expect(Number(header(options, 'Retry-After'))).toBeGreaterThan(0);
    const subscribe = await request(port, 'SUBSCRIBE', ['Event: presence', 'Expires: 600', `Contact: <sip:watcher@${HOST}:${ua.port}>`]);
    expect(subscribe.status).toBe(503);
    expect(header(subscribe, 'Retry-After')).toBeDefined();

    expect((await fetch(`${admin}/livez`)).status).toBe(200);
    const ready = await fetch(`${admin}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { reason: string }).reason).toMatch(/Kafka/);
    const text = await scrape(admin);
    expect(seriesValue(text, 'presence_sip_requests_total{method="OPTIONS"}')).toBe(1);
    expect(seriesValue(text, 'presence_sip_responses_total{code="503"}')).toBe(2);
    expect(seriesValue(text, 'presence_sip_ready')).toBe(0);
    // Still retrying Kafka in the background, it stops promptly on SIGTERM.
    const t = Date.now();
    await p.stop('SIGTERM', 15_000);
    expect(Date.now() - t).toBeLessThan(15_000);
  }, 60_000);

  it('with Kafka up: OPTIONS 200, /readyz 200; requests, responses and PUBLISH round trips are counted', async () => {
    const { port, admin } = await startFrontEnd('fe-kafka');
    await eventually('GET /readyz 200', async () => (await fetch(`${admin}/readyz`)).status === 200, { timeoutMs: 30_000, intervalMs: 250 });
    const options = await request(port, 'OPTIONS');
    expect(options.status).toBe(200);
    const before = await scrape(admin);
    expect(seriesValue(before, 'presence_sip_ready')).toBe(1);
    expect(seriesValue(before, 'presence_sip_publish_round_trip_seconds_count{outcome="answered"}')).toBe(0);

    const sub = await request(port, 'SUBSCRIBE', ['Event: presence', 'Expires: 600', `Contact: <sip:watcher@${HOST}:${ua.port}>`]);
    expect(sub.status).toBe(200);
    // An initial PUBLISH is answered once stored; no event manager runs here, so a conditional one
    // waits --publish-timeout-ms for its answer, then 500 + Retry-After.
    const pub = await request(port, 'PUBLISH', ['Event: presence', 'Expires: 600', 'Content-Type: application/pidf+xml'], pidf());
    expect(pub.status).toBe(200);
    const refresh = await request(port, 'PUBLISH', ['Event: presence', 'Expires: 600', `SIP-If-Match: ${pub.sipETag!}`]);
    expect(refresh.status).toBe(500);

    const after = await scrape(admin);
    expect(seriesValue(after, 'presence_sip_requests_total{method="OPTIONS"}')).toBe(1);
    expect(seriesValue(after, 'presence_sip_requests_total{method="SUBSCRIBE"}')).toBe(1);
    expect(seriesValue(after, 'presence_sip_requests_total{method="PUBLISH"}')).toBe(2);
    expect(seriesValue(after, 'presence_sip_responses_total{code="200"}')).toBe(3);
    expect(seriesValue(after, 'presence_sip_responses_total{code="500"}')).toBe(1);
    expect(seriesValue(after, 'presence_sip_subscriptions_recorded_total')).toBe(1);
    expect(seriesValue(after, 'presence_sip_publish_round_trip_seconds_count{outcome="stored"}')).toBe(1);
    expect(seriesValue(after, 'presence_sip_publish_round_trip_seconds_count{outcome="unanswered"}')).toBe(1);
    expect(seriesValue(after, 'presence_sip_publish_round_trip_seconds_sum{outcome="unanswered"}')).toBeGreaterThanOrEqual(0.25);
    expect(seriesValue(after, 'presence_sip_publish_round_trip_seconds_bucket{outcome="unanswered",le="0.1"}')).toBe(0);
  }, 60_000);
});

function pidf(): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:+351910000081@ims.example.net">' +
    '<tuple id="t1"><status><basic>open</basic></status></tuple></presence>'
  );
}
