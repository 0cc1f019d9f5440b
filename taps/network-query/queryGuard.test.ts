import { describe, expect, it } from 'vitest';
import { failed, type NetworkQuery } from './networkQuery.ts';
import { QueryGuard } from './queryGuard.ts';

type Q = { subscriber: string };

const answering = (delayMs: number, calls: string[] = []): NetworkQuery<Q, string> => ({
  name: 'test',
  ask: (q, { signal }) =>
    new Promise((resolve) => {
      calls.push(q.subscriber);
      const t = setTimeout(() => resolve({ ok: true, fact: `at ${q.subscriber}` }), delayMs);
      signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve(failed('timeout', 'aborted'));
      });
    }),
});

describe('QueryGuard', () => {
  it('asks once per subscriber per interval, others freely, and counts by reason', async () => {
    let now = 1000;
    const calls: string[] = [];
    const g = new QueryGuard(answering(0, calls), { minIntervalMs: 60_000, timeoutMs: 1000 }, () => now);
    expect(await g.ask({ subscriber: 'msisdn:+1' })).toEqual({ ok: true, fact: 'at msisdn:+1' });
    const again = await g.ask({ subscriber: 'msisdn:+1' });
    expect(again.ok ? null : again.reason).toBe('rate-limited');
    expect((await g.ask({ subscriber: 'msisdn:+2' })).ok).toBe(true);
    now += 60_000;
    expect((await g.ask({ subscriber: 'msisdn:+1' })).ok).toBe(true);
    expect(calls).toEqual(['msisdn:+1', 'msisdn:+2', 'msisdn:+1']);
    expect(Object.fromEntries(g.stats.outcomes)).toEqual({ ok: 3, 'rate-limited': 1 });
    expect(g.stats.inFlight).toBe(0);
  });

  it('gives up after its time budget with a timeout outcome', async () => {
    const g = new QueryGuard(answering(5000), { minIntervalMs: 0, timeoutMs: 50 });
    const t0 = Date.now();
    const o = await g.ask({ subscriber: 'msisdn:+1' });
    expect(o.ok ? null : o.reason).toBe('timeout');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(g.stats.outcomes.get('timeout')).toBe(1);
  });

  it('turns a query that throws into a system-failure outcome, not a crash', async () => {
    const g = new QueryGuard<Q, string>({ name: 'bad', ask: () => Promise.reject(new Error('boom')) }, { minIntervalMs: 0, timeoutMs: 100 });
    expect(await g.ask({ subscriber: 'msisdn:+1' })).toEqual({ ok: false, reason: 'system-failure', detail: 'boom' });
  });

  it('forgets the oldest subscribers beyond maxTracked', async () => {
    const g = new QueryGuard(answering(0), { minIntervalMs: 60_000, timeoutMs: 100, maxTracked: 1 }, () => 0);
    await g.ask({ subscriber: 'a' });
    await g.ask({ subscriber: 'b' });
    expect((await g.ask({ subscriber: 'a' })).ok).toBe(true);
  });
});
