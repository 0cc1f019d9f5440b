// A broker that offers the "load" assignor, for the integration test and the
// assignment bench: the stack's own broker when it was started with it
// (`presence stack up` after infra/assignor existed), otherwise a second,
// private KRaft broker under <home>/assignor-broker on its own ports, sharing
// the stack's Kafka jars and its schema registry. Restarting the shared
// broker is not an option while other work uses it.
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import type { Settings } from '../../config/settings.ts';
import { brokerAnswers } from '../../kafka/kafkaAdmin.ts';
import { kafkaProcess, startKafka } from '../local/kafkaBroker.ts';
import { runningPid, stopProcess } from '../local/processes.ts';
import { LOAD_ASSIGNOR_CLASS } from './loadAssignorJar.ts';

export interface AssignorBroker {
  /** Settings pointing at the broker (everything else as given). */
  settings: Settings;
  /** True when this call started a private broker (stop() stops it). */
  started: boolean;
  description: string;
  stop(): Promise<void>;
}

/** True when the stack's running broker was started with the load assignor. */
function stackBrokerHasLoadAssignor(s: Settings): boolean {
  if (s.kafka.external || runningPid(kafkaProcess(s)) === undefined) return false;
  const props = path.join(s.home, 'kafka', 'server.properties');
  return existsSync(props) && readFileSync(props, 'utf8').includes(LOAD_ASSIGNOR_CLASS);
}

export async function brokerWithLoadAssignor(s: Settings, log: (line: string) => void = () => {}, port = 19092): Promise<AssignorBroker> {
  if (stackBrokerHasLoadAssignor(s)) {
    return { settings: s, started: false, description: `stack broker ${s.kafka.brokers}`, stop: async () => {} };
  }
  const home = path.join(s.home, 'assignor-broker');
  mkdirSync(home, { recursive: true });
  // Same jars (no second download), own data, logs and pid file.
  const lib = path.join(home, 'lib');
  if (!existsSync(lib)) symlinkSync(path.join(s.home, 'lib'), lib);
  const ps: Settings = { ...s, home, kafka: { ...s.kafka, external: false, port, controllerPort: port + 1, brokers: `127.0.0.1:${port}`, heapMb: 384 } };
  const k = await startKafka(ps, log, () => brokerAnswers(ps.kafka.brokers));
  if (!stackBrokerHasLoadAssignor(ps))
    throw new Error(`the private broker at ${ps.kafka.brokers} runs without the load assignor; see ${kafkaProcess(ps).logFile}`);
  const started = !k.alreadyRunning;
  return {
    settings: ps,
    started,
    description: `private broker ${ps.kafka.brokers} (pid ${k.pid}${started ? `, started in ${(k.readyMs / 1000).toFixed(1)} s` : ', already running'}, log ${kafkaProcess(ps).logFile})`,
    stop: async () => {
      if (started) await stopProcess(kafkaProcess(ps), 60_000);
    },
  };
}

/** The broker log, where the assignor logs each placement ("load assignor: ..."). */
export function assignorLog(b: AssignorBroker): string {
  return kafkaProcess(b.settings).logFile;
}
