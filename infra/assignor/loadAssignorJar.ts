// Builds the broker-side load-aware assignor (infra/assignor, Maven) into
// <home>/build/assignor and tells the broker how to load it. Rebuilt only when
// a source is newer than the jar, so `stack up` stays fast.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../config/settings.ts';

const run = promisify(execFile);
const assignorModule = path.join(projectRoot, 'infra/assignor');
export const LOAD_ASSIGNOR_CLASS = 'presence.assignor.LoadAwareAssignor';
/** The broker's assignor list: its built-ins first (uniform stays the broker default), then ours, named "load". */
export const BROKER_ASSIGNORS = `uniform,range,${LOAD_ASSIGNOR_CLASS}`;

export function assignorBuildDir(home: string): string {
  return path.join(home, 'build', 'assignor');
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (/\.(java|xml)$/.test(e.name)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Runs Maven on the module: `package` (jar, tests skipped unless asked) or `test`. */
export async function mavenAssignor(home: string, goal: 'package' | 'test', opts: { skipTests?: boolean } = {}): Promise<string> {
  const args = ['-B', '-q', '-f', path.join(assignorModule, 'pom.xml'), `-Dassignor.buildDir=${assignorBuildDir(home)}`, goal];
  if (opts.skipTests) args.push('-DskipTests');
  try {
    const { stdout, stderr } = await run('mvn', args, { maxBuffer: 64 * 1024 * 1024 });
    return `${stdout}${stderr}`;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    const detail = `${e.stdout ?? ''}${e.stderr ?? ''}`
      .split('\n')
      .filter((l) => /ERROR|FAIL|Tests run|expected/.test(l))
      .slice(0, 20)
      .join('\n');
    throw new Error(`mvn ${goal} of the load assignor (infra/assignor) failed\n${detail || e.message}`, { cause: err });
  }
}

/** The assignor jar, built if missing or older than its sources. */
export async function loadAssignorJar(home: string, log: (line: string) => void): Promise<string> {
  const jar = path.join(assignorBuildDir(home), 'presence-load-assignor.jar');
  if (existsSync(jar) && statSync(jar).mtimeMs >= newestSource(assignorModule)) return jar;
  log(`building the load-aware assignor (infra/assignor) into ${assignorBuildDir(home)}`);
  await mavenAssignor(home, 'package', { skipTests: true });
  if (!existsSync(jar)) throw new Error(`mvn package of infra/assignor wrote no ${jar}`);
  return jar;
}

/** JVM system properties the assignor reads (the broker does not configure assignors). */
export function assignorJvmProperties(bootstrap: string): string[] {
  return [`-Dpresence.assignor.bootstrap=${bootstrap}`];
}
