// The quick start's main job (`presence demo`) on its own topics: it must end,
// with the watcher's NOTIFYs, whether the event manager's last commit lands
// before or after the demo starts waiting for it, and on a second run over the
// state the first one left.
import { afterAll, describe, expect, it } from 'vitest';
import { runDemoWithConsole } from '../../cli/demo/demoConsole.ts';
import { runDemo } from '../../cli/demo/runDemo.ts';
import type { FlowSnapshot } from '../../services/console/flowMeter.ts';
import type { GroupSnapshot } from '../../services/console/groupView.ts';
import { cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';
import { SseClient } from '../support/sseClient.ts';

const s = isolatedSettings('demo');
const watched = isolatedSettings('demo-console');
afterAll(async () => {
  await cleanupIsolated(s);
  await cleanupIsolated(watched);
});

describe('presence demo', () => {
  it('derives presence for every subscriber and ends, twice in a row', async () => {
    for (let run = 0; run < 2; run++) {
      const lines: string[] = [];
      const r = await runDemo({ subscribers: 10, durationSeconds: 1800, log: () => {}, out: (l) => lines.push(l) }, s);
      expect(r.events).toBeGreaterThan(0);
      expect(r.notifies).toBeGreaterThan(0);
      // A header and one row per subscriber: every one has a derived presence.
      expect(lines).toHaveLength(11);
    }
  }, 300_000);

  // Issue 18, "done means": the console the demo prints shows the demo's own traffic as it
  // goes (paced over a few seconds), with the demo's event manager among the members.
  it('with --console, serves the console before the traffic, which it then shows live', async () => {
    let stream: Promise<SseClient> | undefined;
    const log = (l: string) => {
      const url = /console on (http:\S+)/.exec(l)?.[1];
      if (url) stream = SseClient.open(`${url}api/stream`);
    };
    const run = await runDemoWithConsole({ subscribers: 10, durationSeconds: 1800, port: 0, watchSeconds: 6, log, out: () => {} }, watched);
    try {
      expect(stream).toBeDefined();
      const sse = await stream!;
      try {
        const flow = await sse.next<FlowSnapshot>('flow', (f) => f.totals.signalingEvents > 0 && f.totals.presenceChanges > 0, 30_000);
        expect(flow.signalingByMessage.some((m) => m.tap === 'generator')).toBe(true);
        const members = await sse.next<GroupSnapshot>('members', (g) => g.members.length > 0, 30_000);
        expect(members.members.length).toBeGreaterThan(0);
        expect(run.events).toBeGreaterThan(0);
      } finally {
        sse.close();
      }
    } finally {
      await run.console.stop();
    }
  }, 300_000);
});
