// `presence demo --console`: the web console beside the demo, so a new user watches
// the demo's own traffic go through (issue 18) instead of opening a console after
// the traffic is over. The traffic is paced over `watchSeconds` so there is time to
// look; the console stays up after the demo (for `presence scale event-managers 3`
// and a subscriber search) until the caller stops it.
import type { Settings } from '../../config/settings.ts';
import { startConsole, type Console } from '../../services/console/consoleServer.ts';
import { EVENT_MANAGER_GROUP, EVENT_MANAGER_INPUTS } from '../../streams/event-manager/eventManager.ts';
import { runDemo } from './runDemo.ts';

export interface DemoConsoleOptions {
  subscribers: number;
  durationSeconds: number;
  /** Console port (0 picks one). */
  port: number;
  /** Real seconds the simulated traffic is spread over. */
  watchSeconds: number;
  log: (line: string) => void;
  out: (line: string) => void;
}

/** Runs the demo with the console up from before its traffic; returns the console, still running, and the demo's figures. */
export async function runDemoWithConsole(o: DemoConsoleOptions, s: Settings): Promise<{ console: Console; url: string; events: number; notifies: number }> {
  let app: Console | undefined;
  let url = '';
  try {
    const result = await runDemo(
      {
        subscribers: o.subscribers,
        durationSeconds: o.durationSeconds,
        speed: o.durationSeconds / o.watchSeconds,
        log: o.log,
        out: o.out,
        afterTopology: async () => {
          app = await startConsole(s, {
            port: o.port,
            host: '127.0.0.1',
            lag: { groupId: `${s.topics.prefix}${EVENT_MANAGER_GROUP}`, topics: EVENT_MANAGER_INPUTS },
            log: () => {},
          });
          const addr = app.server.address();
          url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : o.port}/`;
          o.log(`      console on ${url} — open it now: the traffic is spread over ${o.watchSeconds} s`);
        },
      },
      s,
    );
    return { console: app!, url, ...result };
  } catch (err) {
    await app?.stop();
    throw err;
  }
}
