// A throwaway Kafka broker of a test's own (same scripts as the local stack,
// other ports and data directory), so a test can kill and restart it while
// the shared stack stays up for the other tests. Its data survives a kill, as
// a real broker's does: start() after kill() restarts on the same log.
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadSettings, type Settings } from '../../config/settings.ts';
import { kafkaProcess, startKafka } from '../../infra/local/kafkaBroker.ts';
import { runningPid, stopProcess } from '../../infra/local/processes.ts';
import { brokerAnswers } from '../../kafka/kafkaAdmin.ts';

export interface PrivateBroker {
  /** The shared stack's settings with this broker's address, home and ports. */
  readonly settings: Settings;
  start(): Promise<void>;
  /** SIGKILL: no clean shutdown, as in a crash. */
  kill(): void;
  /** Stops it (if running) and removes its data. */
  remove(): Promise<void>;
}

export function privateBroker(name: string, port: number, base: Settings = loadSettings()): PrivateBroker {
  const home = mkdtempSync(path.join(os.tmpdir(), `presence-${name}-`));
  // Share the downloaded classpath with the main stack: no second download.
  symlinkSync(path.join(base.home, 'lib'), path.join(home, 'lib'));
  const settings: Settings = { ...base, home, kafka: { ...base.kafka, port, controllerPort: port + 1, brokers: `127.0.0.1:${port}`, heapMb: 384 } };
  return {
    settings,
    start: async () => {
      await startKafka(
        settings,
        () => {},
        () => brokerAnswers(settings.kafka.brokers),
      );
    },
    kill: () => {
      const pid = runningPid(kafkaProcess(settings));
      if (pid === undefined) throw new Error(`private broker ${name} is not running`);
      process.kill(pid, 'SIGKILL');
    },
    remove: async () => {
      await stopProcess(kafkaProcess(settings), 5000).catch(() => {});
      rmSync(home, { recursive: true, force: true });
    },
  };
}
