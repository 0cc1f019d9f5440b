// Kamailio 5.6 as a peer for interop tests, on a loopback UDP port, its db_text
// tables copied from the Debian package into a temp dir, in the foreground as
// its own process group, killed by that group's id when stopped: blf.cfg
// (presence + presence_dialoginfo, a busy-lamp-field server) and registrar.cfg
// (registrar + usrloc + pua_reginfo + presence_reginfo: the registrar serving
// the reg event package, RFC 3680); siptrace.cfg (a HEP capture agent sending
// HEP3 over TLS to a collector).
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { copyFileSync, existsSync, mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const KAMAILIO = '/usr/sbin/kamailio';
const CONFIG = fileURLToPath(new URL('./blf.cfg', import.meta.url));
const REGISTRAR_CONFIG = fileURLToPath(new URL('./registrar.cfg', import.meta.url));
const SIPTRACE_CONFIG = fileURLToPath(new URL('./siptrace.cfg', import.meta.url));
const MODULES = '/usr/lib/x86_64-linux-gnu/kamailio/modules';
const DBTEXT_TABLES = '/usr/share/kamailio/dbtext/kamailio';
/** What the presence module opens (version first: it checks table versions). */
const TABLES = ['version', 'presentity', 'active_watchers', 'watchers'];
/** The registrar's pua module keeps its own table besides the presence ones. */
const REGISTRAR_TABLES = [...TABLES, 'pua'];

/** Why Kamailio's BLF server cannot run here, or undefined. Install: apt-get install -y kamailio kamailio-presence-modules */
export function kamailioBlfMissing(): string | undefined {
  if (!existsSync(KAMAILIO)) return `${KAMAILIO} is absent (apt-get install -y kamailio kamailio-presence-modules)`;
  if (!existsSync(join(DBTEXT_TABLES, 'presentity'))) return `${DBTEXT_TABLES} is absent (package kamailio)`;
  if (spawnSync(KAMAILIO, ['-c', '-f', CONFIG, '-A', 'DBURL="text:///tmp"'], { stdio: 'ignore', timeout: 10_000 }).status !== 0)
    return `kamailio -c rejects ${CONFIG} (is kamailio-presence-modules, with presence_dialoginfo, installed?)`;
  return undefined;
}

export interface KamailioPeer {
  readonly host: string;
  readonly port: number;
  readonly logFile: string;
  stop(): Promise<void>;
}

/** Resolves once an OPTIONS to host:port is answered 200 (Kamailio's children are up). */
async function answersOptions(host: string, port: number, timeoutMs: number, exited: () => boolean): Promise<void> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  const me = socket.address().port;
  const t0 = Date.now();
  try {
    await new Promise<void>((resolve, reject) => {
      socket.on('message', (m) => {
        if (m.toString('latin1').startsWith('SIP/2.0 200')) resolve();
      });
      const tick = setInterval(() => {
        if (exited()) reject(new Error('kamailio exited at start'));
        else if (Date.now() - t0 > timeoutMs) reject(new Error(`kamailio did not answer OPTIONS on ${host}:${port} within ${timeoutMs} ms`));
        else {
          const n = Date.now();
          socket.send(
            `OPTIONS sip:${host}:${port} SIP/2.0\r\nVia: SIP/2.0/UDP ${host}:${me};branch=z9hG4bKready${n}\r\nMax-Forwards: 70\r\n` +
              `From: <sip:ready@${host}>;tag=r${n}\r\nTo: <sip:${host}:${port}>\r\nCall-ID: ready-${n}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`,
            port,
            host,
          );
        }
      }, 250);
      const stop = () => clearInterval(tick);
      socket.once('close', stop);
    });
  } finally {
    socket.close();
  }
}

async function startKamailio(
  o: { host: string; port: number; logFile: string },
  config: string,
  tables: readonly string[],
  defines: (db: string) => string[],
  /** Sockets beside the UDP one (e.g. tls:127.0.0.1:PORT). */
  extraListen: readonly string[] = [],
): Promise<KamailioPeer> {
  const db = mkdtempSync(join(tmpdir(), 'kamailio-'));
  for (const t of tables) copyFileSync(join(DBTEXT_TABLES, t), join(db, t));
  const out = openSync(o.logFile, 'a');
  const listen = [`udp:${o.host}:${o.port}`, ...extraListen].flatMap((l) => ['-l', l]);
  const args = ['-f', config, ...listen, ...defines(db).flatMap((d) => ['-A', d]), '-DD', '-E', '-m', '32', '-M', '8', '-Y', db];
  const child = spawn(KAMAILIO, args, { stdio: ['ignore', out, out], detached: true });
  closeSync(out);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const stop = async () => {
    if (!gone && child.pid) {
      // Its own process group (detached): the main process and every child it forked, by the group's id.
      process.kill(-child.pid, 'SIGTERM');
      const kill = setTimeout(() => !gone && child.pid && process.kill(-child.pid, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(kill);
    }
    rmSync(db, { recursive: true, force: true });
  };
  try {
    await answersOptions(o.host, o.port, 20_000, () => gone);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}; see ${o.logFile}`, { cause: err });
  }
  return { host: o.host, port: o.port, logFile: o.logFile, stop };
}

export function startKamailioBlf(o: { host: string; port: number; logFile: string }): Promise<KamailioPeer> {
  return startKamailio(o, CONFIG, TABLES, (db) => [`DBURL="text://${db}"`]);
}

/** Why Kamailio as a reg-event registrar cannot run here, or undefined. */
export function kamailioRegistrarMissing(): string | undefined {
  if (!existsSync(KAMAILIO)) return `${KAMAILIO} is absent (apt-get install -y kamailio kamailio-presence-modules)`;
  if (!existsSync(join(DBTEXT_TABLES, 'pua'))) return `${DBTEXT_TABLES}/pua is absent (package kamailio)`;
  const check = spawnSync(KAMAILIO, ['-c', '-f', REGISTRAR_CONFIG, '-A', 'DBURL="text:///tmp"', '-A', 'REGSERVER="sip:127.0.0.1:5060"'], {
    stdio: 'ignore',
    timeout: 10_000,
  });
  if (check.status !== 0) return `kamailio -c rejects ${REGISTRAR_CONFIG} (are kamailio-presence-modules, with presence_reginfo and pua_reginfo, installed?)`;
  return undefined;
}

/** Kamailio as the registrar serving `Event: reg` (registrar.cfg); its reginfo PUBLISHes go to itself. */
export function startKamailioRegistrar(o: { host: string; port: number; logFile: string }): Promise<KamailioPeer> {
  return startKamailio(o, REGISTRAR_CONFIG, REGISTRAR_TABLES, (db) => [`DBURL="text://${db}"`, `REGSERVER="sip:${o.host}:${o.port}"`]);
}

/** Why Kamailio as a HEP-over-TLS agent cannot run here, or undefined. Install: apt-get install -y kamailio kamailio-tls-modules */
export function kamailioHepTlsAgentMissing(): string | undefined {
  if (!existsSync(KAMAILIO)) return `${KAMAILIO} is absent (apt-get install -y kamailio kamailio-tls-modules)`;
  if (!existsSync(join(MODULES, 'tls.so'))) return `${MODULES}/tls.so is absent (apt-get install -y kamailio-tls-modules)`;
  if (!existsSync(join(MODULES, 'siptrace.so'))) return `${MODULES}/siptrace.so is absent (package kamailio)`;
  return undefined;
}

interface HepTlsAgentOptions {
  host: string;
  /** Its UDP port, where the requests to copy are sent. */
  port: number;
  /** Its TLS socket's port: Kamailio sends over TLS only from a TLS socket of its own. */
  tlsPort: number;
  logFile: string;
  /** The collector's HEP over TLS port on host. */
  collectorPort: number;
  /** HEP3 authentication key (chunk 0x000e). */
  authKey: string;
  /** PEM files: the agent's certificate and key (presented to the collector) and the CA it verifies the collector with. */
  certFile: string;
  keyFile: string;
  caFile: string;
}

/** Kamailio's siptrace as a HEP3-over-TLS capture agent (siptrace.cfg), verifying the collector and presenting its own certificate. */
export function startKamailioHepTlsAgent(o: HepTlsAgentOptions): Promise<KamailioPeer> {
  const tlsConfig = (db: string): string => {
    const file = join(db, 'tls.cfg');
    const side = (role: string) =>
      [
        `[${role}:default]`,
        'method = TLSv1.2+',
        `certificate = ${o.certFile}`,
        `private_key = ${o.keyFile}`,
        `ca_list = ${o.caFile}`,
        'verify_certificate = yes',
        'require_certificate = yes',
        '',
      ].join('\n');
    writeFileSync(file, `${side('server')}\n${side('client')}`);
    return file;
  };
  return startKamailio(
    o,
    SIPTRACE_CONFIG,
    [],
    (db) => [`TLSCFG="${tlsConfig(db)}"`, `HEPURI="sip:${o.host}:${o.collectorPort};transport=tls"`, `HEPKEY="${o.authKey}"`],
    [`tls:${o.host}:${o.tlsPort}`],
  );
}
