import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMlpServer, type MlpServer } from '../../test/support/mlpServer.ts';
import type { LocationRequest } from '../../schemas/generated/records.ts';
import { MlpLocationQuery } from '../../taps/network-query/mlpLocationQuery.ts';
import { QueryGuard } from '../../taps/network-query/queryGuard.ts';
import { apply } from '../../streams/event-manager/presence/derive.ts';
import { LocationAgent } from './locationAgent.ts';

let gmlc: MlpServer;
const at = new Date('2026-12-06T10:15:30Z');
beforeAll(async () => {
  gmlc = await startMlpServer();
  gmlc.answers.set('351910000001', { kind: 'circle', latitude: 38.736946, longitude: -9.142685, radiusM: 150, time: at, method: 'CELL' });
});
afterAll(() => gmlc.close());

const request = (subscriber: string, id: string): LocationRequest => ({
  requestId: id,
  subscriber,
  requestedAt: at.getTime(),
  reason: 'watcher',
  maxLocationAgeS: 120,
  horizontalAccuracyM: null,
});

describe('location agent', () => {
  it('answers a request with a SignalingEvent the event manager applies as the subscriber position; failures publish nothing', async () => {
    const q = new MlpLocationQuery({ url: gmlc.url, clientId: 'presence', password: null, horizontalAccuracyM: 300, maxLocationAgeS: 600 });
    const agent = new LocationAgent(new QueryGuard(q, { minIntervalMs: 30_000, timeoutMs: 2000 }), 'location-agent-1', () => at.getTime() + 800);
    const ok = await agent.answer(request('msisdn:+351910000001', 'r1'));
    expect(ok.event).toMatchObject({ subscriber: 'msisdn:+351910000001', protocol: 'mlp', kind: 'result', time: at.getTime() + 800 });
    // The request's max age and the agent's accuracy reached the GMLC.
    expect(gmlc.seen.at(-1)).toMatchObject({ msisdn: '351910000001', maxLocationAgeS: 120, horizontalAccuracyM: 300 });
    const s = apply(undefined, ok.event!).state;
    expect(s.geolocation).toMatchObject({ radiusMeters: 150, method: 'CELL', observedAt: at.getTime() });
    expect(s.geolocation!.latitude).toBeCloseTo(38.736946, 5);

    // Asked again at once: rate-limited, the GMLC is not asked.
    const n = gmlc.seen.length;
    expect(await agent.answer(request('msisdn:+351910000001', 'r2'))).toMatchObject({ event: null, outcome: { ok: false, reason: 'rate-limited' } });
    expect(gmlc.seen.length).toBe(n);
    expect(await agent.answer(request('msisdn:+351910000099', 'r3'))).toMatchObject({ event: null, outcome: { ok: false, reason: 'unknown-subscriber' } });
    expect(Object.fromEntries(agent.guard.stats.outcomes)).toEqual({ ok: 1, 'rate-limited': 1, 'unknown-subscriber': 1 });
  });
});
