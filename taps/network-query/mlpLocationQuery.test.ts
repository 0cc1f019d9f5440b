import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMlpServer, type MlpServer } from '../../test/support/mlpServer.ts';
import { MlpLocationQuery } from './mlpLocationQuery.ts';
import { QueryGuard } from './queryGuard.ts';

let gmlc: MlpServer;
const at = new Date('2026-12-06T10:15:30Z');

beforeAll(async () => {
  gmlc = await startMlpServer();
  gmlc.answers.set('46701000001', { kind: 'point', latitude: 59.329444, longitude: 18.068611, time: at, utcOff: '+0100', method: 'A-GPS' });
  gmlc.answers.set('46701000002', { kind: 'circle', latitude: -33.868, longitude: -151.209, radiusM: 240, time: at });
  gmlc.answers.set('46701000004', { kind: 'poserr', resid: 6, text: 'POSITION METHOD FAILURE' });
  gmlc.answers.set('46701000005', { kind: 'hang' });
  gmlc.answers.set('46701000006', {
    kind: 'garbage',
    body: '<svc_result><slia><pos><msid>46701000006</msid><pd><time>soon</time></pd></pos></slia></svc_result>',
  });
  gmlc.answers.set('46701000007', { kind: 'garbage', body: 'not xml at all <' });
  gmlc.answers.set('46701000008', { kind: 'request-error', resid: 1, text: 'SYSTEM FAILURE' });
  gmlc.answers.set('46701000009', { kind: 'http-error', status: 503 });
});
afterAll(() => gmlc.close());

function guard(timeoutMs = 2000) {
  const q = new MlpLocationQuery({ url: gmlc.url, clientId: 'presence', password: 'secret', horizontalAccuracyM: 500, maxLocationAgeS: 300 });
  return new QueryGuard(q, { minIntervalMs: 0, timeoutMs });
}

describe('MLP location query against an MLP 3.x server on 127.0.0.1', () => {
  it('sends an SLIR with the client, MSISDN, accuracy and max age, and reads a Point with its method and UTC time', async () => {
    const o = await guard().ask({ subscriber: 'msisdn:+46701000001', horizontalAccuracyM: 100 });
    expect(o.ok).toBe(true);
    if (!o.ok) return;
    expect(o.fact.latitude).toBeCloseTo(59.329444, 5);
    expect(o.fact.longitude).toBeCloseTo(18.068611, 5);
    expect(o.fact.radiusM).toBeNull();
    expect(o.fact.method).toBe('A-GPS');
    expect(new Date(o.fact.time).toISOString()).toBe(at.toISOString()); // utc_off +0100 undone
    expect(gmlc.seen.at(-1)).toMatchObject({ clientId: 'presence', password: 'secret', msisdn: '46701000001', horizontalAccuracyM: 100, maxLocationAgeS: 300 });
  });

  it('reads a CircularArea in the southern and western hemispheres with its radius', async () => {
    const o = await guard().ask({ subscriber: 'msisdn:+46701000002' });
    expect(o.ok && o.fact).toMatchObject({ radiusM: 240, method: null });
    if (!o.ok) return;
    expect(o.fact.latitude).toBeCloseTo(-33.868, 5);
    expect(o.fact.longitude).toBeCloseTo(-151.209, 5);
  });

  it('maps each failure to its own outcome, counted by reason, never throwing', async () => {
    const g = guard(300);
    for (const [n, why] of [
      ['46701000003', 'unknown-subscriber'], // the server's default: resid 4
      ['46701000004', 'position-method-failure'],
      ['46701000005', 'timeout'],
      ['46701000006', 'malformed-answer'],
      ['46701000007', 'malformed-answer'],
      ['46701000008', 'system-failure'],
      ['46701000009', 'system-failure'],
    ] as const) {
      const o = await g.ask({ subscriber: `msisdn:+${n}` });
      expect(o.ok ? 'ok' : o.reason, `${n}: ${o.ok ? '' : o.detail}`).toBe(why);
    }
    expect(Object.fromEntries(g.stats.outcomes)).toEqual({
      'unknown-subscriber': 1,
      'position-method-failure': 1,
      timeout: 1,
      'malformed-answer': 2,
      'system-failure': 2,
    });
  });

  it('names the MLP result in the outcome detail', async () => {
    const o = await guard().ask({ subscriber: 'msisdn:+46701000004' });
    expect(o).toEqual({ ok: false, reason: 'position-method-failure', detail: 'MLP result 6 POSITION METHOD FAILURE' });
  });

  it('does not ask the GMLC about a subscriber without an MSISDN, nor crash on an unreachable GMLC', async () => {
    const before = gmlc.seen.length;
    const noMsisdn = await guard().ask({ subscriber: 'aor:sip:alice@example.com' });
    expect(noMsisdn.ok ? 'ok' : noMsisdn.reason).toBe('unknown-subscriber');
    expect(gmlc.seen.length).toBe(before);
    const closed = new QueryGuard(
      new MlpLocationQuery({ url: 'http://127.0.0.1:9/mlp', clientId: 'x', password: null, horizontalAccuracyM: 1, maxLocationAgeS: 1 }),
      { minIntervalMs: 0, timeoutMs: 2000 },
    );
    const o = await closed.ask({ subscriber: 'msisdn:+46701000001' });
    expect(o.ok ? 'ok' : o.reason).toBe('system-failure');
  });
});
