// Kamailio's presence server as the peer: bench/peer/kamailio.cfg on a
// loopback UDP port, its db_text tables copied from the Debian package into
// a temp dir, run in the foreground (-DD -E) as its own process group and
// killed at the end.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChild } from './children.ts';
import { waitUntilPublishAnswered } from './readiness.ts';
import type { SystemUnderTest } from './systemUnderTest.ts';

const KAMAILIO = '/usr/sbin/kamailio';
const CONFIG = fileURLToPath(new URL('./kamailio.cfg', import.meta.url));
const DBTEXT_TABLES = '/usr/share/kamailio/dbtext/kamailio';
/** What the presence and presence_xml modules open (version first: they check table versions). */
const TABLES = ['version', 'presentity', 'active_watchers', 'watchers', 'xcap'];

/** Why Kamailio cannot run here, or undefined. Install: apt-get install -y kamailio kamailio-presence-modules sip-tester */
export function kamailioMissing(): string | undefined {
  if (!existsSync(KAMAILIO)) return `${KAMAILIO} is absent (apt-get install -y kamailio kamailio-presence-modules)`;
  if (!existsSync(join(DBTEXT_TABLES, 'presentity'))) return `${DBTEXT_TABLES} is absent (package kamailio)`;
  if (spawnSync(KAMAILIO, ['-c', '-f', CONFIG, '-A', 'DBURL="text:///tmp"'], { stdio: 'ignore', timeout: 10_000 }).status !== 0)
    return `kamailio -c rejects ${CONFIG} (is kamailio-presence-modules installed?)`;
  return undefined;
}

export async function startKamailio(o: { host: string; port: number; children: number; shmMb: number; logDir: string }): Promise<SystemUnderTest> {
  const db = mkdtempSync(join(tmpdir(), 'peer-kamailio-'));
  for (const t of TABLES) copyFileSync(join(DBTEXT_TABLES, t), join(db, t));
  const child = startChild(
    'kamailio',
    KAMAILIO,
    [
      '-f',
      CONFIG,
      '-l',
      `udp:${o.host}:${o.port}`,
      '-A',
      `DBURL="text://${db}"`,
      '-DD',
      '-E',
      '-n',
      String(o.children),
      '-m',
      String(o.shmMb),
      '-M',
      '16',
      '-Y',
      db,
    ],
    { logFile: join(o.logDir, 'kamailio.log') },
  );
  const stop = async () => {
    await child.stop(5000);
    rmSync(db, { recursive: true, force: true });
  };
  try {
    const readyMs = await Promise.race([
      waitUntilPublishAnswered(o.host, o.port, 20_000),
      child.exited.then(() => {
        throw new Error(`kamailio exited at start; see ${child.logFile}`);
      }),
    ]);
    return { name: 'kamailio', host: o.host, port: o.port, readyMs, logs: [child.logFile], stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
