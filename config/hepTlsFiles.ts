// The PEM files of HEP over TLS (`presence tap hep`), read once at start as the
// SIP ones are (sipTlsFiles.ts), so a wrong path stops the tap at once instead
// of failing every agent's handshake later.
import type { Settings } from './settings.ts';
import { readPem, readPrivateKey, tlsReload, type TlsReload } from './sipTlsFiles.ts';

interface HepTls {
  readonly port: number;
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly clientCa?: Buffer;
  readonly reload: TlsReload;
}

const HEP_KEY_PASSPHRASE = 'PRESENCE_HEP_TLS_KEY_PASSPHRASE';

/** The HEP tap's TLS listener, or undefined when no certificate is configured (TLS off). Half a configuration is an error. */
export function hepTapTls(s: Settings): HepTls | undefined {
  const t = s.hep.tls;
  if (t.certFile === undefined && t.keyFile === undefined) {
    if (t.clientCaFile !== undefined) throw new Error('setting PRESENCE_HEP_TLS_CLIENT_CA_FILE needs PRESENCE_HEP_TLS_CERT_FILE and PRESENCE_HEP_TLS_KEY_FILE');
    return undefined;
  }
  if (t.certFile === undefined || t.keyFile === undefined) {
    throw new Error('HEP over TLS needs both PRESENCE_HEP_TLS_CERT_FILE (hep.tls.certFile) and PRESENCE_HEP_TLS_KEY_FILE (hep.tls.keyFile)');
  }
  return {
    port: t.port,
    cert: readPem('PRESENCE_HEP_TLS_CERT_FILE', t.certFile),
    key: readPrivateKey('PRESENCE_HEP_TLS_KEY_FILE', t.keyFile, t.keyPassphrase, HEP_KEY_PASSPHRASE),
    ...(t.clientCaFile !== undefined ? { clientCa: readPem('PRESENCE_HEP_TLS_CLIENT_CA_FILE', t.clientCaFile) } : {}),
    reload: tlsReload(s, { ...t, certFile: t.certFile, keyFile: t.keyFile, keyPassphraseSetting: HEP_KEY_PASSPHRASE }),
  };
}
