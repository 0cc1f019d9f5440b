// The quick start's main job (`presence demo`) on its own topics: it must end,
// with the watcher's NOTIFYs, whether the event manager's last commit lands
// before or after the demo starts waiting for it, and on a second run over the
// state the first one left.
import { afterAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../cli/demo/runDemo.ts';
import { cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';

const s = isolatedSettings('demo');
afterAll(() => cleanupIsolated(s));

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
});
