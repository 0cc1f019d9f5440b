// Prometheus view of network queries: outcomes by query and reason, and those
// in flight, read from QueryGuard's stats at scrape time (protocols/http/metrics.ts).
import type { MetricsRegistry } from '../../protocols/http/metrics.ts';
import type { QueryGuard } from './queryGuard.ts';

export function registerNetworkQueryMetrics(m: MetricsRegistry, guards: ReadonlyArray<QueryGuard<{ readonly subscriber: string }, unknown>>): void {
  m.counter('presence_network_queries_total', 'Active queries to the network (Le, Pi, HLR/HSS) by query and outcome: ok or why no fact came back', () =>
    guards.flatMap((g) => [...g.stats.outcomes].map(([outcome, n]) => [{ query: g.query.name, outcome }, n] as const)),
  );
  m.gauge('presence_network_queries_in_flight', 'Queries waiting for the network, by query', () =>
    guards.map((g) => [{ query: g.query.name }, g.stats.inFlight] as const),
  );
}
