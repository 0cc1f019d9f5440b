// A TLS private key as every listener and client here takes it: a PEM file,
// encrypted with a passphrase or not (issue 13: operators keep keys encrypted at
// rest, the passphrase in a secret). The key is decrypted once, here, so a
// missing or wrong passphrase stops the process at start with the setting's
// name — Node would otherwise fail the first handshake with "bad decrypt" — and
// the servers, the certificate reloader and the clients all get a plain key.
import { createPrivateKey } from 'node:crypto';

export interface PrivateKeySource {
  /** The file the PEM came from, for the error. */
  readonly keyFile: string;
  /** Its passphrase, when the PEM is encrypted. */
  readonly passphrase?: string | undefined;
  /** The setting that holds the passphrase, named in the error (PRESENCE_SIP_TLS_KEY_PASSPHRASE). */
  readonly passphraseSetting: string;
}

const ENCRYPTED = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/;

/** The key as unencrypted PEM: as given when it is not encrypted, decrypted (PKCS#8) when it is. */
export function privateKeyPem(pem: Buffer, source: PrivateKeySource): Buffer {
  const encrypted = ENCRYPTED.test(pem.toString('latin1'));
  if (!encrypted) return pem; // a passphrase set for a plain key is harmless, as in nginx
  if (source.passphrase === undefined || source.passphrase === '')
    throw new Error(`${source.keyFile} is an encrypted private key: set its passphrase (${source.passphraseSetting})`);
  try {
    const key = createPrivateKey({ key: pem, format: 'pem', passphrase: source.passphrase });
    return Buffer.from(key.export({ type: 'pkcs8', format: 'pem' }));
  } catch (err) {
    // OpenSSL says "bad decrypt" for a wrong passphrase; say which setting to look at.
    throw new Error(`${source.keyFile}: the private key cannot be decrypted with ${source.passphraseSetting} (wrong passphrase?): ${(err as Error).message}`, {
      cause: err,
    });
  }
}
