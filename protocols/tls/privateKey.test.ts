import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createSecureContext } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCertificateAuthority, type IssuedCertificate } from '../../infra/local/testCertificates.ts';
import { withEncryptedKey } from '../../test/support/tlsPeer.ts';
import { privateKeyPem } from './privateKey.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'presence-private-key-'));
const SETTING = 'PRESENCE_SIP_TLS_KEY_PASSPHRASE';
let plain: IssuedCertificate;
let encrypted: IssuedCertificate;

beforeAll(async () => {
  const ca = await createTestCertificateAuthority(path.join(dir, 'ca'));
  plain = await ca.issue('server', ['127.0.0.1']);
  encrypted = withEncryptedKey(plain, 'correct horse');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const load = (keyFile: string, passphrase?: string) => privateKeyPem(readFileSync(keyFile), { keyFile, passphrase, passphraseSetting: SETTING });

describe('privateKeyPem', () => {
  it('gives a plain key back unchanged, passphrase or not', () => {
    expect(load(plain.keyFile).equals(readFileSync(plain.keyFile))).toBe(true);
    expect(load(plain.keyFile, 'unused').equals(readFileSync(plain.keyFile))).toBe(true);
  });

  it('decrypts an encrypted key with its passphrase into one TLS takes with the certificate', () => {
    expect(readFileSync(encrypted.keyFile, 'utf8')).toContain('BEGIN ENCRYPTED PRIVATE KEY');
    const key = load(encrypted.keyFile, 'correct horse');
    expect(key.toString()).toContain('BEGIN PRIVATE KEY');
    // Throws on a key that does not belong to the certificate.
    expect(() => createSecureContext({ cert: readFileSync(plain.certFile), key })).not.toThrow();
  });

  it('decrypts the traditional OpenSSL form too (Proc-Type: 4,ENCRYPTED, as `openssl ec -aes256` writes it)', () => {
    const traditional = path.join(dir, 'traditional.key');
    writeFileSync(
      traditional,
      createPrivateKey(readFileSync(plain.keyFile)).export({ type: 'sec1', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'correct horse' }),
    );
    expect(readFileSync(traditional, 'utf8')).toContain('Proc-Type: 4,ENCRYPTED');
    expect(() => load(traditional)).toThrow('is an encrypted private key');
    expect(() => createSecureContext({ cert: readFileSync(plain.certFile), key: load(traditional, 'correct horse') })).not.toThrow();
  });

  it('names the passphrase setting when it is missing or wrong, instead of a handshake failing later', () => {
    expect(() => load(encrypted.keyFile)).toThrow(`${encrypted.keyFile} is an encrypted private key: set its passphrase (${SETTING})`);
    expect(() => load(encrypted.keyFile, 'wrong')).toThrow(`cannot be decrypted with ${SETTING} (wrong passphrase?)`);
  });
});
