// Counts of an HTTP API's answers (by route and status code) and their latency,
// for its role's admin port. Routes are the API's own names, never paths: a path
// holds identities (personal data) and would make one series per subscriber.
import type http from 'node:http';
import { LatencyHistogram } from './latencyHistogram.ts';
import type { Labels } from './metrics.ts';

export class HttpStats {
  private readonly responses = new Map<string, { route: string; code: string; n: number }>();
  readonly latency = new LatencyHistogram();

  /** Counts the response when it has been sent; `route` is read then (the handler may set it late). */
  track(res: http.ServerResponse, route: () => string): void {
    const start = process.hrtime.bigint();
    res.once('finish', () => {
      this.latency.observe(Number(process.hrtime.bigint() - start) / 1e9);
      const r = route();
      const key = `${r} ${res.statusCode}`;
      const e = this.responses.get(key) ?? { route: r, code: String(res.statusCode), n: 0 };
      e.n++;
      this.responses.set(key, e);
    });
  }

  byRouteAndCode(): Array<[Labels, number]> {
    return [...this.responses.values()].map((e) => [{ route: e.route, code: e.code }, e.n]);
  }
}
