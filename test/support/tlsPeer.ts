// The certificate a new TLS handshake is given: what a test of certificate renewal
// looks at (protocols/tls/certificateReloader.ts), the server verified against `ca`.
import { createPrivateKey } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type PeerCertificate } from 'node:tls';
import { expect } from 'vitest';

export function peerCertificate(port: number, o: { ca: Buffer; cert?: Buffer; key?: Buffer }, host = '127.0.0.1'): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, ...o }, () => {
      resolve(socket.getPeerCertificate());
      socket.end();
    });
    socket.once('error', reject);
  });
}

/**
 * A listener's certificate renewal, as an operator does it: the renewed pair (named
 * `localhost` too) copied over the `live` files the listener was started from, then SIGHUP;
 * `served` (the subjectAltName a new handshake gets) must name localhost after, not before.
 */
export async function expectRenewedOnSighup(
  live: { certFile: string; keyFile: string },
  renewed: { certFile: string; keyFile: string },
  served: () => Promise<string>,
): Promise<void> {
  expect(await served()).not.toContain('DNS:localhost');
  copyFileSync(renewed.certFile, live.certFile);
  copyFileSync(renewed.keyFile, live.keyFile);
  process.emit('SIGHUP');
  expect(await served()).toContain('DNS:localhost');
}

/** The pair with its key encrypted under `passphrase` (PKCS#8, AES-256-CBC, as `openssl pkcs8 -topk8 -v2 aes-256-cbc` writes it) in a file beside it. */
export function withEncryptedKey<T extends { certFile: string; keyFile: string }>(pair: T, passphrase: string): T {
  const keyFile = pair.keyFile.replace(/(\.key)?$/, '.encrypted.key');
  const key = createPrivateKey(readFileSync(pair.keyFile));
  writeFileSync(keyFile, key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }));
  return { ...pair, keyFile };
}
