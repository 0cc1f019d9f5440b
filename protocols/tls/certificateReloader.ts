// A TLS listener takes a renewed certificate without a restart (issue 13). Certificates
// are rotated in place — cert-manager renewing a Secret, kubelet swapping the mounted
// files through a symlink, an operator copying new PEMs over the old — so the listener
// reads its files again on an interval and on SIGHUP (as nginx and HAProxy reload), and
// when they changed and make a valid pair, new handshakes get the new certificate;
// open connections keep theirs. A half-written or mismatched pair (the key copied
// before the certificate) is refused and counted, the listener keeps the pair it has,
// and the next look tries again. Polling, not fs.watch: a symlink swap of a mounted
// Secret is not reliably seen by a watcher.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions, type Server } from 'node:tls';
import { privateKeyPem } from './privateKey.ts';

export interface CertificateFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** Mutual TLS: the CAs client certificates must chain to (reloaded too). */
  readonly clientCaFile?: string;
  /** The key file's passphrase, when it is encrypted (a renewed key is decrypted with it too), and the setting that holds it. */
  readonly keyPassphrase?: string;
  readonly keyPassphraseSetting?: string;
}

/** A listener's certificate files and how often to look at them: what its options carry to start a CertificateReloader. */
export interface CertificateReload {
  readonly files: CertificateFiles;
  /** Between looks; 0: only on SIGHUP. */
  readonly intervalMs: number;
}

export interface CertificateReloadOptions {
  /** What listens, for the log ("SIP TLS 0.0.0.0:5061"). */
  readonly what: string;
  /** Between looks at the files; 0: only on SIGHUP. */
  readonly intervalMs: number;
  /** Default: the process-wide sink (setCertificateReloadLogSink). */
  readonly log?: (line: string) => void;
}

export interface CertificateReloadStats {
  /** New pairs taken. */
  reloads: number;
  /** Looks whose files could not be read or made no valid pair (the old one kept). */
  failures: number;
  lastError: string | undefined;
}

type Sink = (level: 'info' | 'warn', line: string) => void;
/** Where reloads and refusals are said when a listener gives no log of its own: the command's log (cli/logger.ts), else stderr. */
let sink: Sink = (_level, line) => process.stderr.write(`${line}\n`);
export function setCertificateReloadLogSink(s: Sink | undefined): void {
  sink = s ?? ((_level, line) => process.stderr.write(`${line}\n`));
}

/** Every live reloader, for SIGHUP. */
const live = new Set<CertificateReloader>();
let hangupInstalled = false;

/** The files as read, and their digest: what a look compares before doing anything more. */
function contents(files: CertificateFiles): { cert: Buffer; key: Buffer; ca: Buffer | undefined; digest: string } {
  const cert = readFileSync(files.certFile);
  const key = readFileSync(files.keyFile);
  const ca = files.clientCaFile === undefined ? undefined : readFileSync(files.clientCaFile);
  const digest = createHash('sha256')
    .update(cert)
    .update('\0')
    .update(key)
    .update('\0')
    .update(ca ?? '')
    .digest('hex');
  return { cert, key, ca, digest };
}

/** A changed pair as TLS takes it: the key decrypted only now, not on every look at unchanged files. */
function secureContextOptions(files: CertificateFiles, c: ReturnType<typeof contents>): SecureContextOptions {
  const key = privateKeyPem(c.key, {
    keyFile: files.keyFile,
    passphrase: files.keyPassphrase,
    passphraseSetting: files.keyPassphraseSetting ?? 'its passphrase',
  });
  return { cert: c.cert, key, ...(c.ca ? { ca: c.ca } : {}) };
}

export class CertificateReloader {
  readonly stats: CertificateReloadStats = { reloads: 0, failures: 0, lastError: undefined };
  private digest: string | undefined;
  private readonly timer: NodeJS.Timeout | undefined;

  /** Watches `files` for `server` until the server closes. The server was made from these files (their digest now is the baseline). */
  constructor(
    private readonly server: Server,
    private readonly files: CertificateFiles,
    private readonly o: CertificateReloadOptions,
  ) {
    try {
      this.digest = contents(files).digest;
    } catch {
      this.digest = undefined; // the first look compares against nothing and loads what is there
    }
    if (o.intervalMs > 0) {
      this.timer = setInterval(() => this.check(), o.intervalMs);
      this.timer.unref();
    }
    live.add(this);
    if (!hangupInstalled) {
      hangupInstalled = true;
      process.on('SIGHUP', () => {
        for (const r of live) r.check();
      });
    }
    server.once('close', () => this.stop());
  }

  /** Reads the files; a changed, valid pair goes to new handshakes. */
  check(): 'unchanged' | 'reloaded' | 'failed' {
    let next: ReturnType<typeof contents>;
    try {
      next = contents(this.files);
      if (next.digest === this.digest) return 'unchanged';
      const options = secureContextOptions(this.files, next);
      // Throws on a key that does not match its certificate, or a PEM cut short.
      createSecureContext(options);
      this.server.setSecureContext(options);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.stats.failures++;
      // Said once per cause: a look every interval would repeat it.
      if (message !== this.stats.lastError) this.say('warn', `${this.o.what}: the certificate files could not be loaded, keeping the current pair: ${message}`);
      this.stats.lastError = message;
      return 'failed';
    }
    this.digest = next.digest;
    this.stats.reloads++;
    this.stats.lastError = undefined;
    this.say('info', `${this.o.what}: certificate reloaded from ${this.files.certFile}`);
    return 'reloaded';
  }

  private say(level: 'info' | 'warn', line: string): void {
    if (this.o.log) this.o.log(line);
    else sink(level, line);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    live.delete(this);
  }
}
