// Downloads the stack's Java parts from Maven Central once, through Maven and
// the pom in infra/maven (so ~/.m2 caches them and no other host is needed).
// A marker file records what was assembled; later runs skip the work.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../config/settings.ts';

const run = promisify(execFile);
const pom = path.join(projectRoot, 'infra/maven/pom.xml');

/** Runs Maven on a pom (ours by default); errors keep Maven's ERROR lines and say what was being fetched. */
export async function mvn(args: string[], what: string, pomFile = pom): Promise<void> {
  try {
    await run('mvn', ['-B', '-q', '-f', pomFile, ...args], { maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    const detail = `${e.stdout ?? ''}${e.stderr ?? ''}`
      .split('\n')
      .filter((l) => /ERROR|FATAL/.test(l))
      .slice(0, 8)
      .join('\n');
    throw new Error(`could not fetch ${what} from Maven Central with mvn (is Maven installed and the registry reachable?)\n${detail || e.message}`, {
      cause: err,
    });
  }
}

/** True when dir was assembled for this version (its marker file says so). */
export function marked(dir: string, version: string): boolean {
  const marker = path.join(dir, '.assembled');
  return existsSync(marker) && readFileSync(marker, 'utf8').trim() === version;
}

export function mark(dir: string, version: string): void {
  writeFileSync(path.join(dir, '.assembled'), version);
}

/** The Kafka broker's classpath directory (kafka_2.13 and its runtime dependencies). */
export async function kafkaClasspath(home: string, version: string, log: (s: string) => void): Promise<string> {
  const dir = path.join(home, 'lib', `kafka-${version}`);
  if (marked(dir, version)) return dir;
  log(`assembling Kafka ${version} from Maven Central into ${dir} (once)`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await mvn(['dependency:copy-dependencies', `-Dkafka.version=${version}`, `-DoutputDirectory=${dir}`, '-DincludeScope=runtime'], `Kafka ${version}`);
  // Kafka's clients still declare slf4j 1.7; the log4j2 binding needs 2.x, which the pom adds.
  for (const f of readdirSync(dir)) if (/^slf4j-api-1\./.test(f)) rmSync(path.join(dir, f));
  mark(dir, version);
  return dir;
}

/** The unpacked Apicurio Registry app (quarkus-run.jar inside). */
export async function registryDistribution(home: string, version: string, log: (s: string) => void): Promise<string> {
  const dir = path.join(home, 'lib', `apicurio-registry-${version}`);
  if (marked(dir, version) && existsSync(path.join(dir, 'quarkus-run.jar'))) return dir;
  log(`fetching Apicurio Registry ${version} from Maven Central into ${dir} (once)`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await mvn(['dependency:copy@registry', `-Dapicurio.version=${version}`, `-DoutputDirectory=${dir}`], `Apicurio Registry ${version}`);
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tar.gz'));
  if (!tarball) throw new Error(`Maven fetched no Apicurio tarball into ${dir}`);
  await run('tar', ['xzf', tarball], { cwd: dir });
  rmSync(path.join(dir, tarball));
  mark(dir, version);
  return dir;
}
