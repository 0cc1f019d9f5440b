// One event manager member under a supervisor, as a StatefulSet runs it: a
// member that stops on a fatal error (a producer fenced because the
// coordinator timed its transaction out while the broker was down) is started
// again with the same member id; it restores from the changelog and re-reads
// from the committed offsets. For the broker-restart chaos tests.
import type { Settings } from '../../config/settings.ts';
import { startEventManager, type EventManager, type EventManagerOptions } from '../../streams/event-manager/eventManager.ts';
import { sleep } from './wait.ts';

export interface SupervisedEventManager {
  /** Its log lines and the supervisor's, timestamped. */
  readonly lines: string[];
  /** Why the member stopped, once per restart. */
  readonly restarts: string[];
  /** The member now running (undefined until the first start succeeded). */
  current(): EventManager | undefined;
  stop(): Promise<void>;
}

/** Starts it; a fourth stop is not restarted (the loop ends). Start failures (broker down) are retried every 2 s. */
export function supervisedEventManager(s: Settings, o: EventManagerOptions = {}): SupervisedEventManager {
  const lines: string[] = [];
  const log = (l: string) => lines.push(`${new Date().toISOString().slice(11, 23)} ${l}`);
  const restarts: string[] = [];
  let current: EventManager | undefined;
  let stopping = false;
  const run = async (): Promise<void> => {
    while (!stopping) {
      const em = await startEventManager(s, { memberId: `chaos-${s.topics.prefix}`, log, ...o }).catch((e: unknown) => {
        log(`supervisor: start failed: ${String(e)}`);
        return undefined;
      });
      if (!em) {
        await sleep(2000);
        continue;
      }
      current = em;
      const stopped = await em.done().then(
        () => undefined,
        (e: unknown) => String(e),
      );
      if (stopped === undefined || stopping) return;
      if (restarts.length >= 3) throw new Error(`the event manager stopped a fourth time: ${stopped}`);
      restarts.push(stopped);
      log(`supervisor: member stopped (${stopped}); starting it again`);
      await em.stop().catch(() => {});
    }
  };
  const loop = run();
  loop.catch(() => {});
  return {
    lines,
    restarts,
    current: () => current,
    stop: async () => {
      stopping = true;
      await current?.stop();
      await loop.catch(() => {});
    },
  };
}
