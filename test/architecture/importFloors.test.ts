// The house rule, checked: every top-level folder sits on a floor and its
// production code imports only from folders on lower floors (or from itself),
// so the tree reads as the pipeline and no loop can form. Tests (`*.test.ts`
// and everything under test/) may import anything; benchmarks may also use
// test/support; production code never imports test/. No file circles.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/captures.ts';

/** Folder → floor. A folder may import folders on lower floors only. */
export const FLOORS: Readonly<Record<string, number>> = {
  protocols: 0,
  config: 1,
  schemas: 2,
  subscriber: 2,
  'presence-document': 2,
  kafka: 3,
  coordinator: 4,
  infra: 4,
  taps: 5,
  'front-end': 5,
  streams: 6,
  services: 6,
  connectors: 7,
  tools: 8,
  bench: 9,
  cli: 9,
  bin: 10,
};

const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...sourceFiles(full));
    else if (/\.(ts|mjs)$/.test(name)) out.push(full);
  }
  return out;
}

interface Edge {
  from: string;
  to: string;
}

function importEdges(): Edge[] {
  const edges: Edge[] = [];
  for (const top of [...Object.keys(FLOORS), 'test']) {
    for (const file of sourceFiles(path.join(repoRoot, top))) {
      const from = path.relative(repoRoot, file);
      for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
        const spec = (m[1] ?? m[2])!;
        edges.push({ from, to: path.relative(repoRoot, path.resolve(path.dirname(file), spec)) });
      }
    }
  }
  return edges;
}

const topOf = (p: string) => p.split(path.sep)[0]!;
const isTest = (p: string) => p.endsWith('.test.ts') || topOf(p) === 'test';

describe('import floors', () => {
  const edges = importEdges();

  it('reads the imports of every folder on the map', () => {
    const folders = new Set(edges.map((e) => topOf(e.from)));
    for (const f of ['protocols', 'kafka', 'taps', 'streams', 'cli']) expect(folders).toContain(f);
    expect(edges.length).toBeGreaterThan(500);
  });

  it('every top-level folder with code has a floor', () => {
    const unplaced = [...new Set(edges.map((e) => topOf(e.to)))].filter((t) => !(t in FLOORS) && t !== 'test' && !t.endsWith('.ts'));
    expect(unplaced).toEqual([]);
  });

  it('production code imports only from lower floors (or its own folder), never from test/', () => {
    const upward = edges
      .filter((e) => !isTest(e.from))
      .filter((e) => {
        const a = topOf(e.from);
        const b = topOf(e.to);
        if (a === b) return false;
        if (b === 'test') return !(a === 'bench' && e.to.startsWith(`test${path.sep}support${path.sep}`));
        return (FLOORS[b] ?? Infinity) >= (FLOORS[a] ?? -Infinity);
      })
      .map((e) => `${e.from} → ${e.to} (floor ${FLOORS[topOf(e.from)]} → ${FLOORS[topOf(e.to)] ?? 'test'})`);
    expect(upward).toEqual([]);
  });

  it('no two production files import each other, directly or through others', () => {
    const graph = new Map<string, string[]>();
    for (const e of edges) {
      if (isTest(e.from)) continue;
      const to = e.to.endsWith('.ts') || e.to.endsWith('.mjs') ? e.to : `${e.to}.ts`;
      graph.set(e.from, [...(graph.get(e.from) ?? []), to]);
    }
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (n: string) => {
      state.set(n, 'open');
      stack.push(n);
      for (const m of graph.get(n) ?? []) {
        if (state.get(m) === 'open') cycles.push([...stack.slice(stack.indexOf(m)), m].join(' → '));
        else if (!state.has(m)) visit(m);
      }
      stack.pop();
      state.set(n, 'done');
    };
    for (const n of graph.keys()) if (!state.has(n)) visit(n);
    expect(cycles).toEqual([]);
  });
});
