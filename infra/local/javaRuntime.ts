// Finds the JDKs the stack runs on: Kafka 4 needs Java 17+, Apicurio Registry
// 3.x is compiled for Java 21+ (class file 65), which Debian 12's default
// OpenJDK 17 cannot load; the machine's second JDK (Temurin) is found here.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

function majorOf(javaHome: string): number | undefined {
  const release = path.join(javaHome, 'release');
  if (!existsSync(release)) return undefined;
  const m = /JAVA_VERSION="(\d+)(?:\.(\d+))?/.exec(readFileSync(release, 'utf8'));
  if (!m) return undefined;
  return m[1] === '1' ? Number(m[2]) : Number(m[1]);
}

function candidates(preferred: string | undefined): string[] {
  const list: string[] = [];
  if (preferred) list.push(preferred);
  if (process.env.JAVA_HOME) list.push(process.env.JAVA_HOME);
  const jvmDir = '/usr/lib/jvm';
  if (existsSync(jvmDir)) for (const d of readdirSync(jvmDir).sort()) list.push(path.join(jvmDir, d));
  return list;
}

/** Path of a `java` binary whose major version is at least `min`. */
export function findJava(min: number, preferredHome?: string, purpose = 'this part'): string {
  let best: { bin: string; major: number } | undefined;
  for (const home of candidates(preferredHome)) {
    const bin = path.join(home, 'bin', 'java');
    const major = majorOf(home);
    if (!existsSync(bin) || major === undefined || major < min) continue;
    // Prefer the lowest version that fits: the most tested one for the part.
    if (!best || major < best.major) best = { bin, major };
  }
  if (best) return best.bin;
  throw new Error(
    `${purpose} needs Java ${min} or newer and none was found (looked at ${preferredHome ?? '$JAVA_HOME'} and /usr/lib/jvm). ` +
      `Install a JDK ${min}+ and set PRESENCE_REGISTRY_JAVA_HOME or JAVA_HOME to it.`,
  );
}
