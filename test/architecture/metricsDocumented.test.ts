// Metric names are an interface: dashboards and alerts are written against
// them. Every metric the code registers is documented in the README's
// Operations → Metrics and health section (and nothing documented is gone), and
// every metric the Grafana dashboard queries is one the code registers.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/captures.ts';

const PRODUCTION = ['protocols', 'kafka', 'front-end', 'streams', 'connectors', 'taps', 'cli', 'services', 'coordinator'];

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...sources(full));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

/** Names given to MetricsRegistry.counter/gauge/histogram in production code. */
function registered(): Set<string> {
  const names = new Set<string>();
  for (const top of PRODUCTION)
    for (const f of sources(path.join(repoRoot, top)))
      for (const m of readFileSync(f, 'utf8').matchAll(/\.(?:counter|gauge|histogram)\(\s*'(presence_[a-z0-9_]+)'/g)) names.add(m[1]!);
  return names;
}

const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('### Metrics and health'), readme.indexOf('## Security'));

describe('metric names', () => {
  const names = registered();

  it('finds the registrations of every wired role', () => {
    for (const prefix of [
      'presence_event_manager_',
      'presence_sip_',
      'presence_notify_',
      'presence_hep_',
      'presence_group_presence_',
      'presence_group_service_',
      'presence_group_presence_api_',
      'presence_locator_',
      'presence_console_',
      'presence_kafka_',
    ])
      expect(
        [...names].some((n) => n.startsWith(prefix)),
        prefix,
      ).toBe(true);
  });

  it('every registered metric is documented, and every documented one is registered', () => {
    const documented = new Set([...section.matchAll(/^\| `(presence_[a-z0-9_]+)` \|/gm)].map((m) => m[1]!));
    expect([...names].filter((n) => !documented.has(n))).toEqual([]);
    expect([...documented].filter((n) => !names.has(n))).toEqual([]);
  });

  it('the Grafana dashboard queries only registered metrics, and every panel has a query', () => {
    const dash = JSON.parse(readFileSync(path.join(repoRoot, 'infra/grafana/presence.json'), 'utf8')) as {
      panels: Array<{ type: string; title: string; targets?: Array<{ expr: string }> }>;
    };
    const graphs = dash.panels.filter((p) => p.type !== 'row');
    expect(graphs.length).toBeGreaterThan(10);
    const queried = new Set<string>();
    for (const p of graphs) {
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets!) for (const m of t.expr.matchAll(/presence_[a-z0-9_]+/g)) queried.add(m[0].replace(/_(bucket|sum|count)$/, ''));
    }
    expect([...queried].filter((n) => !names.has(n))).toEqual([]);
    // The pipeline end to end: taps, event managers, front end, NOTIFYs.
    for (const prefix of ['presence_hep_', 'presence_event_manager_', 'presence_sip_', 'presence_notify_'])
      expect(
        [...queried].some((n) => n.startsWith(prefix)),
        prefix,
      ).toBe(true);
  });
});
