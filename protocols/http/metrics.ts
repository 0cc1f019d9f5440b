// Prometheus metrics of a process, read from the stats objects its components
// already keep (the numbers of the periodic stderr lines): each metric is a
// collector evaluated at scrape time, so nothing is counted twice and a
// component needs no metrics library. prom-client formats the exposition and
// adds the standard process_* / nodejs_* metrics.
import client from 'prom-client';
import type { LatencyHistogram } from './latencyHistogram.ts';

export type Labels = Readonly<Record<string, string>>;
/** One value, or one value per label set. */
export type Reading<T> = T | Iterable<readonly [Labels, T]>;

type MetricType = 'counter' | 'gauge' | 'histogram';

interface Value {
  value: number;
  labels: Record<string, string>;
  metricName?: string;
}

const NAME = /^presence_[a-z][a-z0-9_]*$/;

function isSingle<T>(r: Reading<T>, single: (x: unknown) => x is T): r is T {
  return single(r);
}

const isNumber = (x: unknown): x is number => typeof x === 'number';
const isHistogram = (x: unknown): x is LatencyHistogram => typeof x === 'object' && x !== null && 'cumulative' in x;

export class MetricsRegistry {
  readonly registry = new client.Registry();
  private readonly names = new Set<string>();

  /** `processMetrics`: also process_* and nodejs_* (CPU, memory, event-loop lag, GC), as every Node exporter has them. */
  constructor(processMetrics = true) {
    if (processMetrics) client.collectDefaultMetrics({ register: this.registry });
  }

  /** A monotonic count read from a stats object; Prometheus convention: the name ends in `_total`. */
  counter(name: string, help: string, read: () => Reading<number>): void {
    if (!name.endsWith('_total')) throw new Error(`counter ${name} must end in _total`);
    this.add(name, help, 'counter', () => this.numbers(read()));
  }

  /** A value that goes up and down (sizes, lag, in flight). */
  gauge(name: string, help: string, read: () => Reading<number> | Promise<Reading<number>>): void {
    if (name.endsWith('_total')) throw new Error(`gauge ${name} must not end in _total (that means a counter)`);
    this.add(name, help, 'gauge', async () => this.numbers(await read()));
  }

  /** A LatencyHistogram (seconds) kept by a component. */
  histogram(name: string, help: string, read: () => Reading<LatencyHistogram>): void {
    if (!name.endsWith('_seconds')) throw new Error(`histogram ${name} measures durations: its name ends in _seconds`);
    this.add(name, help, 'histogram', () => {
      const r = read();
      const series = isSingle(r, isHistogram) ? [[{}, r] as const] : [...r];
      const out: Value[] = [];
      for (const [labels, h] of series) {
        for (const [le, n] of h.cumulative()) out.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: n });
        out.push({ metricName: `${name}_sum`, labels: { ...labels }, value: h.sum });
        out.push({ metricName: `${name}_count`, labels: { ...labels }, value: h.count });
      }
      return out;
    });
  }

  /** The exposition (text format 0.0.4) and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private numbers(r: Reading<number>): Value[] {
    if (isSingle(r, isNumber)) return [{ labels: {}, value: r }];
    return [...r].map(([labels, value]) => ({ labels: { ...labels }, value }));
  }

  private add(name: string, help: string, type: MetricType, values: () => Value[] | Promise<Value[]>): void {
    if (!NAME.test(name)) throw new Error(`metric ${name}: our metrics are named presence_<snake_case>`);
    if (this.names.has(name)) throw new Error(`metric ${name} registered twice`);
    this.names.add(name);
    // prom-client renders any object with name/help/type/get(); a collector reads the stats when scraped.
    const metric = { name, help, type, aggregator: 'sum', get: async () => ({ name, help, type, aggregator: 'sum', values: await values() }) };
    this.registry.registerMetric(metric as unknown as client.Metric);
  }
}

/** Stats kept as `{ key: count }` (e.g. responses by code) as label sets. */
export function byLabel(label: string, counts: Readonly<Record<string | number, number>>): Array<[Labels, number]> {
  return Object.entries(counts).map(([k, n]) => [{ [label]: k }, n]);
}
