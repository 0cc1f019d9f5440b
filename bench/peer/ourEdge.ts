// Our edge as the system under test, on the local stack: its own topic
// prefix (topics applied like `presence topics apply`, removed at the end),
// then the three processes a deployment runs — `presence run sip-front`,
// one `run event-manager` and `run notify-sink` — each a real CLI process.
// Presentities are keyed by their URI (no directory; unknown ones kept), as
// Kamailio takes any presentity.
import { join } from 'node:path';
import { loadSettings, projectRoot, type Settings } from '../../config/settings.ts';
import { applyTopology } from '../../kafka/applyTopology.ts';
import { cleanupIsolated } from '../../test/support/isolatedStack.ts';
import { startChild, type Child } from './children.ts';
import { waitUntilPublishAnswered } from './readiness.ts';
import type { SystemUnderTest } from './systemUnderTest.ts';

export async function startOurEdge(o: {
  host: string;
  port: number;
  sinkPort: number;
  partitions: number;
  /** sip-front --workers: processes sharing the SIP port (Kamailio's counterpart is its UDP children). */
  frontEndWorkers: number;
  logDir: string;
  /** Leave the topics for inspection (peerBench --keep). */
  keepTopics?: boolean;
}): Promise<SystemUnderTest> {
  const base = loadSettings();
  const prefix = `bench-peer-${Date.now().toString(36)}.`;
  const s: Settings = { ...base, topics: { ...base.topics, prefix, partitions: o.partitions } };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PRESENCE_TOPIC_PREFIX: prefix,
    PRESENCE_PARTITIONS: String(o.partitions),
    PRESENCE_UNKNOWN_SUBSCRIBERS: 'keep',
    // Publications expire by the wall clock, as Kamailio's do.
    PRESENCE_TIMER_CLOCK: 'wall',
    PRESENCE_NOTIFY_CONTACT: `sip:${o.host}:${o.port}`,
  };
  const cli = join(projectRoot, 'bin', 'presence.mjs');
  const children: Child[] = [];
  const stop = async () => {
    // The front end first (no new work), the event manager last (it commits and leaves its group).
    for (const c of [...children].reverse()) await c.stop(15_000);
    if (o.keepTopics) process.stderr.write(`topics kept under the prefix ${prefix}\n`);
    else await cleanupIsolated(s);
  };
  const t0 = Date.now();
  try {
    await applyTopology(s);
    // BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" profiles the three processes (node refuses --cpu-prof in NODE_OPTIONS).
    const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const run = (name: string, args: string[]) =>
      children.push(startChild(name, process.execPath, [...nodeArgs, cli, 'run', ...args], { env, cwd: projectRoot, logFile: join(o.logDir, `${name}.log`) }));
    run('event-manager', ['event-manager', '--member-id', `${prefix}em-1`]);
    run('notify-sink', ['notify-sink', '--host', o.host, '--port', String(o.sinkPort), '--contact', `sip:${o.host}:${o.port}`]);
    run('sip-front', ['sip-front', '--host', o.host, '--port', String(o.port), '--no-directory', '--no-groups', '--workers', String(o.frontEndWorkers)]);
    const died = Promise.race(children.map((c) => c.exited.then(() => c)));
    await Promise.race([
      waitUntilPublishAnswered(o.host, o.port, 90_000),
      died.then((c) => {
        throw new Error(`${c.name} exited at start; see ${c.logFile}`);
      }),
    ]);
    return { name: 'presence-gateway', host: o.host, port: o.port, readyMs: Date.now() - t0, logs: children.map((c) => c.logFile), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
