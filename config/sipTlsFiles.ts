// The PEM files of SIP over TLS, read once at start with an error that names
// the setting and the file, so a wrong path stops the process at once instead
// of failing every handshake later. Returns contents shaped like the transport's
// SipTlsOptions (protocols/sip/transport/tlsTransport.ts).
import { readFileSync } from 'node:fs';
import { privateKeyPem } from '../protocols/tls/privateKey.ts';
import type { Settings } from './settings.ts';

export function readPem(setting: string, file: string): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (err) {
    throw new Error(`setting ${setting}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  if (!pem.includes('-----BEGIN ')) throw new Error(`setting ${setting}: ${file} is not a PEM file (no -----BEGIN line)`);
  return pem;
}

/** A key file, encrypted or not: its PEM unencrypted (protocols/tls/privateKey.ts), or an error naming the settings. */
export function readPrivateKey(setting: string, file: string, passphrase: string | undefined, passphraseSetting: string): Buffer {
  return privateKeyPem(readPem(setting, file), { keyFile: file, passphrase, passphraseSetting });
}

interface ListenerFiles {
  certFile: string;
  keyFile: string;
  clientCaFile?: string | undefined;
  keyPassphrase?: string | undefined;
  keyPassphraseSetting: string;
}

/** What a TLS listener re-reads to take a renewed certificate (protocols/tls/certificateReloader.ts CertificateReload). */
export interface TlsReload {
  readonly files: { certFile: string; keyFile: string; clientCaFile?: string; keyPassphrase?: string; keyPassphraseSetting?: string };
  readonly intervalMs: number;
}

/** A listener's files and the settings' reload interval. */
export function tlsReload(s: Settings, t: ListenerFiles): TlsReload {
  return {
    files: {
      certFile: t.certFile,
      keyFile: t.keyFile,
      ...(t.clientCaFile !== undefined ? { clientCaFile: t.clientCaFile } : {}),
      ...(t.keyPassphrase !== undefined ? { keyPassphrase: t.keyPassphrase } : {}),
      keyPassphraseSetting: t.keyPassphraseSetting,
    },
    intervalMs: s.tls.reloadIntervalS * 1000,
  };
}

interface FrontEndTls {
  readonly port: number;
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly clientCa?: Buffer;
  readonly reload: TlsReload;
}

const SIP_KEY_PASSPHRASE = 'PRESENCE_SIP_TLS_KEY_PASSPHRASE';

/** The front end's TLS listener, or undefined when no certificate is configured (TLS off). Half a configuration is an error. */
export function frontEndTls(s: Settings): FrontEndTls | undefined {
  const t = s.frontEnd.tls;
  // Names are believed only from certificates verified against a client CA: without one they would trust nothing, silently.
  if (s.frontEnd.auth.trustedProxyNames.length > 0 && t.clientCaFile === undefined)
    throw new Error(
      'PRESENCE_SIP_TRUSTED_PROXY_NAMES needs PRESENCE_SIP_TLS_CLIENT_CA_FILE (and the SIP TLS certificate): proxies are trusted by name only through a client certificate verified against it',
    );
  if (t.certFile === undefined && t.keyFile === undefined) {
    if (t.clientCaFile !== undefined) throw new Error('setting PRESENCE_SIP_TLS_CLIENT_CA_FILE needs PRESENCE_SIP_TLS_CERT_FILE and PRESENCE_SIP_TLS_KEY_FILE');
    return undefined;
  }
  if (t.certFile === undefined || t.keyFile === undefined) {
    throw new Error('SIP over TLS needs both PRESENCE_SIP_TLS_CERT_FILE (frontEnd.tls.certFile) and PRESENCE_SIP_TLS_KEY_FILE (frontEnd.tls.keyFile)');
  }
  return {
    port: t.port,
    cert: readPem('PRESENCE_SIP_TLS_CERT_FILE', t.certFile),
    key: readPrivateKey('PRESENCE_SIP_TLS_KEY_FILE', t.keyFile, t.keyPassphrase, SIP_KEY_PASSPHRASE),
    ...(t.clientCaFile !== undefined ? { clientCa: readPem('PRESENCE_SIP_TLS_CLIENT_CA_FILE', t.clientCaFile) } : {}),
    reload: tlsReload(s, { ...t, certFile: t.certFile, keyFile: t.keyFile, keyPassphraseSetting: SIP_KEY_PASSPHRASE }),
  };
}

/** The SIP certificate settings on a listener's own port (a member's front end, the call-handling server); `flag` names what asked, in the error. */
export function sipTlsOnPort(s: Settings, port: number, flag: string): FrontEndTls {
  const tls = frontEndTls(s);
  if (!tls) throw new Error(`${flag} needs a certificate: PRESENCE_SIP_TLS_CERT_FILE and PRESENCE_SIP_TLS_KEY_FILE`);
  return { ...tls, port };
}

interface SinkTls {
  readonly serverCa?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/** The notify sink's outgoing TLS: always on (system roots unless a CA file is set); a client certificate when both files are set. */
export function notifySinkTls(s: Settings): SinkTls {
  const t = s.notifySink.tls;
  if ((t.certFile === undefined) !== (t.keyFile === undefined)) {
    throw new Error('a notify sink client certificate needs both PRESENCE_NOTIFY_TLS_CERT_FILE and PRESENCE_NOTIFY_TLS_KEY_FILE');
  }
  return {
    ...(t.caFile !== undefined ? { serverCa: readPem('PRESENCE_NOTIFY_TLS_CA_FILE', t.caFile) } : {}),
    ...(t.certFile !== undefined && t.keyFile !== undefined
      ? {
          cert: readPem('PRESENCE_NOTIFY_TLS_CERT_FILE', t.certFile),
          key: readPrivateKey('PRESENCE_NOTIFY_TLS_KEY_FILE', t.keyFile, t.keyPassphrase, 'PRESENCE_NOTIFY_TLS_KEY_PASSPHRASE'),
        }
      : {}),
  };
}
