import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../protocols/http/metrics.ts';
import { failed } from './networkQuery.ts';
import { QueryGuard } from './queryGuard.ts';
import { registerNetworkQueryMetrics } from './networkQueryMetrics.ts';

describe('network query metrics', () => {
  it('count outcomes by query and reason', async () => {
    const g = new QueryGuard<{ subscriber: string }, string>(
      { name: 'location-mlp', ask: async (q) => (q.subscriber === 'a' ? { ok: true, fact: 'x' } : failed('unknown-subscriber', 'no')) },
      { minIntervalMs: 0, timeoutMs: 1000 },
    );
    await g.ask({ subscriber: 'a' });
    await g.ask({ subscriber: 'b' });
    await g.ask({ subscriber: 'c' });
    const m = new MetricsRegistry(false);
    registerNetworkQueryMetrics(m, [g]);
    const text = await m.registry.metrics();
    expect(text).toContain('presence_network_queries_total{query="location-mlp",outcome="ok"} 1');
    expect(text).toContain('presence_network_queries_total{query="location-mlp",outcome="unknown-subscriber"} 2');
    expect(text).toContain('presence_network_queries_in_flight{query="location-mlp"} 0');
  });
});
