// The embedded Schema Registry: Apicurio Registry 3.x (Quarkus app from its
// Maven Central tarball) serving the Confluent API at /apis/ccompat/v7.
// Storage is PostgreSQL (database presence_registry on the machine's server),
// so schema ids survive restarts and keep matching the records in Kafka.
import { registryHeaders } from '../../schemas/registryAuth.ts';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Settings } from '../../config/settings.ts';
import { registryDistribution } from './artifacts.ts';
import { ensureDatabase, jdbcOf } from './database.ts';
import { portOpen } from './kafkaBroker.ts';
import { findJava } from './javaRuntime.ts';
import { type ManagedProcess, runningPid, startDetached, waitUntilReady } from './processes.ts';

const REGISTRY_DATABASE = 'presence_registry';

export function registryProcess(s: Settings): ManagedProcess {
  return { name: 'schema-registry', pidFile: path.join(s.home, 'run', 'registry.pid'), logFile: path.join(s.home, 'logs', 'registry.log') };
}

/** True when the Confluent API answers a subjects listing. */
export async function registryAnswers(url: string): Promise<boolean> {
  const res = await fetch(`${url}/subjects`, { headers: registryHeaders(), signal: AbortSignal.timeout(2000) });
  return res.ok;
}

export async function startRegistry(s: Settings, log: (line: string) => void): Promise<{ pid: number; readyMs: number; alreadyRunning: boolean }> {
  const p = registryProcess(s);
  const existing = runningPid(p);
  if (existing !== undefined) return { pid: existing, readyMs: 0, alreadyRunning: true };
  for (const port of [s.registry.port, s.registry.port + 1]) {
    if (await portOpen(port)) {
      throw new Error(
        `port ${port} (registry API or its management port, API + 1) is taken by another process; set PRESENCE_REGISTRY_PORT, or PRESENCE_REGISTRY_URL to use that registry`,
      );
    }
  }
  const java = findJava(21, s.registry.javaHome, `Apicurio Registry ${s.registry.version}`);
  const dist = await registryDistribution(s.home, s.registry.version, log);
  await ensureDatabase(s.database.adminUrl, REGISTRY_DATABASE);
  const jdbc = jdbcOf(s.database.adminUrl, REGISTRY_DATABASE);
  const work = path.join(s.home, 'registry');
  mkdirSync(work, { recursive: true });
  const heap = s.registry.heapMb;
  const pid = startDetached(
    p,
    java,
    [
      `-Xms128m`,
      `-Xmx${heap}m`,
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-Djava.awt.headless=true',
      `-Djava.io.tmpdir=${work}`,
      `-Dquarkus.http.host=127.0.0.1`,
      `-Dquarkus.http.port=${s.registry.port}`,
      // The management interface is enabled at build time and would listen on
      // 0.0.0.0:9000 (clashing with a second stack); keep it on loopback, next to the API port.
      '-Dquarkus.management.host=127.0.0.1',
      `-Dquarkus.management.port=${s.registry.port + 1}`,
      '-Dapicurio.storage.kind=sql',
      '-Dapicurio.storage.sql.kind=postgresql',
      `-Dapicurio.datasource.url=${jdbc.url}`,
      `-Dapicurio.datasource.username=${jdbc.user}`,
      // Let clients delete subjects as with Confluent's registry (tests and `topics apply --reset`).
      '-Dapicurio.rest.deletion.artifact.enabled=true',
      '-Dapicurio.rest.deletion.artifact-version.enabled=true',
      '-Dapicurio.rest.deletion.group.enabled=true',
      '-jar',
      path.join(dist, 'quarkus-run.jar'),
    ],
    // The database password by environment, not argv: a command line shows in ps and in the process log.
    { ...process.env, JAVA_HOME: path.dirname(path.dirname(java)), APICURIO_DATASOURCE_PASSWORD: jdbc.password },
  );
  const readyMs = await waitUntilReady(p, pid, () => registryAnswers(s.registry.url), 120_000);
  return { pid, readyMs, alreadyRunning: false };
}
