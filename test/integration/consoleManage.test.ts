// The console's management side against the real broker: off unless enabled,
// a login that trades a bearer token with the console:manage scope for an
// HttpOnly SameSite=Strict session cookie, and a replay of one of the
// project's generated captures started from the API, whose events reach the
// pipeline (the console's own flow counters see them, by tap) while the
// tap's own counters come back on the stream. Bad requests get JSON errors.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BearerTokens, newToken } from '../../protocols/http/bearerTokens.ts';
import { startConsole, type Console } from '../../services/console/consoleServer.ts';
import { listCaptures, type ReplayStatus } from '../../services/console/consoleReplay.ts';
import { MANAGE_SCOPE } from '../../services/console/consoleSessions.ts';
import type { FlowSnapshot } from '../../services/console/flowMeter.ts';
import { FIXTURES_DIR, groupPerspective } from '../../cli/commands/console.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';
import { SseClient } from '../support/sseClient.ts';
import { eventually } from '../support/wait.ts';

const s = isolatedSettings('console-manage', 4);
const manager = newToken('ops', [MANAGE_SCOPE]);
const reader = newToken('viewer', ['groups:read']);
let app: Console | undefined;
let base = '';
let stream: SseClient | undefined;
let cookie = '';
/** The scaler the console is handed: records the targets; held until the test lets it finish. */
const scaledTo: number[] = [];
let releaseScale: () => void = () => {};

beforeAll(async () => {
  await applyIsolated(s);
  app = await startConsole(s, {
    port: 0,
    host: '127.0.0.1',
    groupPerspective: groupPerspective(s),
    management: {
      tokens: BearerTokens.parse(`${manager.line}\n${reader.line}\n`),
      captures: listCaptures([{ label: 'fixtures', dir: FIXTURES_DIR }]),
      // Not the local fleet: a test must not start or stop the shared stack's event managers.
      scale: async (n, log) => {
        scaledTo.push(n);
        log(`starting ${n} members`);
        await new Promise<void>((r) => (releaseScale = r));
        return Array.from({ length: n }, (_, i) => ({ id: `em-${i + 1}`, pid: 1000 + i }));
      },
    },
  });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  await eventually('the console reading Kafka', async () => (await fetch(`${base}/api/healthz`)).status === 200, { timeoutMs: 60_000 });
  stream = await SseClient.open(`${base}/api/stream`);
});

afterAll(async () => {
  stream?.close();
  await app?.stop();
  await cleanupIsolated(s);
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
const errorOf = async (r: Response) => ((await r.json()) as { error: string }).error;

describe('console management', () => {
  it('offers the generated fixtures, and refuses changes before a login (401)', async () => {
    expect(await (await fetch(`${base}/api/session`)).json()).toMatchObject({ management: true, loggedIn: false });
    const offered = (await (await fetch(`${base}/api/replays`)).json()) as { enabled: boolean; captures: Array<{ name: string }> };
    expect(offered.enabled).toBe(true);
    expect(offered.captures.map((c) => c.name)).toEqual(['fixtures/isup-m3ua.pcap', 'fixtures/map-m3ua.pcap', 'fixtures/sip-udp.pcap']);
    const r = await post('/api/replays', { capture: 'fixtures/map-m3ua.pcap' });
    expect(r.status).toBe(401);
    expect(await errorOf(r)).toMatch(/log in first.*console:manage/);
  });

  it('logs in only with a token holding console:manage, from the console itself, for an HttpOnly SameSite=Strict cookie', async () => {
    expect((await fetch(`${base}/api/session`, { method: 'POST' })).status).toBe(401);
    expect((await fetch(`${base}/api/session`, { method: 'POST', headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    const weak = await fetch(`${base}/api/session`, { method: 'POST', headers: { authorization: `Bearer ${reader.token}` } });
    expect(weak.status).toBe(403);
    expect(await errorOf(weak)).toMatch(/lacks the scope console:manage/);
    const foreign = await fetch(`${base}/api/session`, {
      method: 'POST',
      headers: { authorization: `Bearer ${manager.token}`, origin: 'http://evil.example' },
    });
    expect(foreign.status).toBe(403);
    const ok = await fetch(`${base}/api/session`, { method: 'POST', headers: { authorization: `Bearer ${manager.token}`, origin: base } });
    expect(ok.status).toBe(200);
    const set = ok.headers.get('set-cookie') ?? '';
    expect(set).toMatch(/^presence_console_session=[A-Za-z0-9_-]+; HttpOnly; SameSite=Strict; Path=\/api; Max-Age=3600$/);
    expect(set).not.toContain(manager.token);
    cookie = set.split(';')[0]!;
    expect(await (await fetch(`${base}/api/session`, { headers: { cookie } })).json()).toMatchObject({ loggedIn: true, client: 'ops' });
  });

  it('answers bad replay requests with JSON errors', async () => {
    const h = { cookie };
    expect((await fetch(`${base}/api/replays`, { method: 'POST', headers: h, body: '{}' })).status).toBe(415);
    expect((await post('/api/replays', 'not json', h).then((r) => r)).status).toBe(400);
    const raw = await fetch(`${base}/api/replays`, { method: 'POST', headers: { ...h, 'content-type': 'application/json' }, body: '{"capture":' });
    expect(raw.status).toBe(400);
    expect(await errorOf(raw)).toMatch(/not valid JSON/);
    const traversal = await post('/api/replays', { capture: '../../package.json' }, h);
    expect(traversal.status).toBe(400);
    expect(await errorOf(traversal)).toMatch(/capture must be one of/);
    expect((await post('/api/replays', { capture: 'fixtures/map-m3ua.pcap', speed: -1 }, h)).status).toBe(400);
    expect((await post('/api/replays', { capture: 'fixtures/map-m3ua.pcap', speed: 1 }, { ...h, origin: 'http://evil.example' })).status).toBe(403);
    expect((await post('/api/replays', 'x'.repeat(20_000), h)).status).toBe(413);
    expect((await fetch(`${base}/api/replays/current`, { method: 'DELETE', headers: h })).status).toBe(409);
    expect((await fetch(`${base}/api/replays`, { method: 'PUT', headers: h })).status).toBe(405);
  });

  it('replays a generated capture at full speed into the pipeline: the tap counts what it decoded, the flow sees the events by tap', async () => {
    const started = await post('/api/replays', { capture: 'fixtures/map-m3ua.pcap', speed: 'max', unknown: 'keep' }, { cookie });
    expect(started.status).toBe(202);
    const st = (await started.json()) as ReplayStatus;
    expect(st).toMatchObject({ capture: 'fixtures/map-m3ua.pcap', speed: null, by: 'ops', state: 'running' });
    const done = await stream!.next<ReplayStatus>('replay', (r) => r.id === st.id && r.state !== 'running', 60_000);
    expect(done.error).toBeNull();
    expect(done.state).toBe('done');
    expect(done.frames).toBe(148);
    expect(done.events).toBeGreaterThan(0);
    expect(Object.keys(done.byMessage).some((k) => k.startsWith('map '))).toBe(true);
    const flow = await stream!.next<FlowSnapshot>('flow', (f) => f.totals.signalingEvents >= done.events, 30_000);
    expect(flow.signalingByMessage.every((r) => r.tap === 'console-replay')).toBe(true);
    expect(flow.signalingByMessage.reduce((n, r) => n + r.total, 0)).toBe(done.events);
  });

  it('scales the event managers through the handed-in fleet: bounds checked, one request at a time, progress on the stream', async () => {
    expect(await (await fetch(`${base}/api/scale`)).json()).toMatchObject({ enabled: true, current: null });
    for (const bad of [-1, 5, 1.5, 'three', null])
      expect((await post('/api/scale', { eventManagers: bad }, { cookie })).status, `eventManagers ${JSON.stringify(bad)}`).toBe(400);
    expect((await post('/api/scale', { eventManagers: 2 })).status).toBe(401);
    const accepted = await post('/api/scale', { eventManagers: 2 }, { cookie });
    expect(accepted.status).toBe(202);
    expect(await accepted.json()).toMatchObject({ target: 2, by: 'ops', state: 'running' });
    await stream!.next('scale', (j: { lines: string[] }) => j.lines.includes('starting 2 members'));
    expect((await post('/api/scale', { eventManagers: 3 }, { cookie })).status).toBe(409);
    releaseScale();
    const done = await stream!.next<{ state: string; members: Array<{ id: string }> }>('scale', (j: { state: string }) => j.state === 'done');
    expect(done.members.map((m) => m.id)).toEqual(['em-1', 'em-2']);
    expect(scaledTo).toEqual([2]);
  });

  it('one replay at a time (409), a paced one can be stopped, and a logout ends the session', async () => {
    // sip-udp.pcap spans 360 simulated seconds: at 1× it is still running when the next request comes.
    const slow = await post('/api/replays', { capture: 'fixtures/sip-udp.pcap', speed: 1, unknown: 'keep' }, { cookie });
    expect(slow.status).toBe(202);
    const second = await post('/api/replays', { capture: 'fixtures/map-m3ua.pcap', speed: 'max' }, { cookie });
    expect(second.status).toBe(409);
    const stopped = await fetch(`${base}/api/replays/current`, { method: 'DELETE', headers: { cookie } });
    expect(stopped.status).toBe(200);
    expect(((await stopped.json()) as ReplayStatus).state).toBe('stopped');
    const out = await fetch(`${base}/api/session`, { method: 'DELETE', headers: { cookie } });
    expect(out.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    expect((await post('/api/replays', { capture: 'fixtures/map-m3ua.pcap' }, { cookie })).status).toBe(401);
  });
});
