// The TLS settings are checked and read at start: half a configuration, a
// missing file, a file that is no PEM or an encrypted key without its passphrase
// stop the process with the setting's name.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings, type Settings } from './settings.ts';
import { hepTapTls } from './hepTlsFiles.ts';
import { frontEndTls, notifySinkTls } from './sipTlsFiles.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'sip-tls-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const pemFile = path.join(dir, 'a.pem');
writeFileSync(pemFile, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
const notPem = path.join(dir, 'a.der');
writeFileSync(notPem, Buffer.from([0x30, 0x82, 0x01]));

const base = loadSettings({});
const withFrontEnd = (tls: Partial<Settings['frontEnd']['tls']>): Settings => ({
  ...base,
  frontEnd: { ...base.frontEnd, tls: { ...base.frontEnd.tls, ...tls } },
});
const withSink = (tls: Partial<Settings['notifySink']['tls']>): Settings => ({
  ...base,
  notifySink: { ...base.notifySink, tls: { ...base.notifySink.tls, ...tls } },
});

describe('frontEndTls', () => {
  it('is off without a certificate, on with certificate and key (port 5061 by default)', () => {
    expect(base.frontEnd.tls.port).toBe(5061);
    expect(frontEndTls(withFrontEnd({ certFile: undefined, keyFile: undefined, clientCaFile: undefined }))).toBeUndefined();
    const on = frontEndTls(withFrontEnd({ certFile: pemFile, keyFile: pemFile, clientCaFile: pemFile }));
    expect(on?.port).toBe(5061);
    expect(on?.clientCa?.toString()).toContain('BEGIN CERTIFICATE');
  });

  it('refuses trusted proxy names without a client CA to verify their certificates by', () => {
    const named = { ...base, frontEnd: { ...base.frontEnd, auth: { ...base.frontEnd.auth, trustedProxyNames: ['scscf.ims.example.net'] } } };
    expect(() => frontEndTls(named)).toThrow(/PRESENCE_SIP_TRUSTED_PROXY_NAMES needs PRESENCE_SIP_TLS_CLIENT_CA_FILE/);
  });

  it('refuses half a configuration, a missing file and a file that is not PEM, naming the setting', () => {
    expect(() => frontEndTls(withFrontEnd({ certFile: pemFile, keyFile: undefined }))).toThrow(/PRESENCE_SIP_TLS_KEY_FILE/);
    expect(() => frontEndTls(withFrontEnd({ certFile: undefined, keyFile: undefined, clientCaFile: pemFile }))).toThrow(
      /PRESENCE_SIP_TLS_CLIENT_CA_FILE needs/,
    );
    expect(() => frontEndTls(withFrontEnd({ certFile: path.join(dir, 'missing.pem'), keyFile: pemFile }))).toThrow(
      /PRESENCE_SIP_TLS_CERT_FILE: cannot read .*ENOENT/,
    );
    expect(() => frontEndTls(withFrontEnd({ certFile: pemFile, keyFile: notPem }))).toThrow(/PRESENCE_SIP_TLS_KEY_FILE: .* is not a PEM file/);
  });
});

describe('notifySinkTls', () => {
  it('trusts the system roots unless a CA file is set; a client certificate needs both files', () => {
    expect(notifySinkTls(withSink({ caFile: undefined, certFile: undefined, keyFile: undefined }))).toEqual({});
    expect(notifySinkTls(withSink({ caFile: pemFile })).serverCa?.toString()).toContain('BEGIN CERTIFICATE');
    expect(() => notifySinkTls(withSink({ certFile: pemFile, keyFile: undefined }))).toThrow(/PRESENCE_NOTIFY_TLS_KEY_FILE/);
  });
});

describe('encrypted keys', () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const encryptedKey = path.join(dir, 'encrypted.key');
  writeFileSync(encryptedKey, privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'key secret' }));
  const passphraseFile = path.join(dir, 'passphrase');
  writeFileSync(passphraseFile, 'key secret\n'); // as `echo secret > file` leaves it
  const plainKey = privateKey.export({ type: 'pkcs8', format: 'pem' });
  const files = {
    PRESENCE_SIP_TLS_CERT_FILE: pemFile,
    PRESENCE_SIP_TLS_KEY_FILE: encryptedKey,
    PRESENCE_HEP_TLS_CERT_FILE: pemFile,
    PRESENCE_HEP_TLS_KEY_FILE: encryptedKey,
    PRESENCE_NOTIFY_TLS_CERT_FILE: pemFile,
    PRESENCE_NOTIFY_TLS_KEY_FILE: encryptedKey,
  };

  it("are decrypted at start with the passphrase from each listener's secret setting (here _FILE)", () => {
    const s = loadSettings({
      ...files,
      PRESENCE_SIP_TLS_KEY_PASSPHRASE_FILE: passphraseFile,
      PRESENCE_HEP_TLS_KEY_PASSPHRASE_FILE: passphraseFile,
      PRESENCE_NOTIFY_TLS_KEY_PASSPHRASE_FILE: passphraseFile,
    });
    expect(frontEndTls(s)?.key.toString()).toBe(plainKey);
    expect(hepTapTls(s)?.key.toString()).toBe(plainKey);
    expect(notifySinkTls(s).key?.toString()).toBe(plainKey);
    // The reloader decrypts a renewed key with the same passphrase.
    expect(frontEndTls(s)?.reload.files).toMatchObject({ keyPassphrase: 'key secret', keyPassphraseSetting: 'PRESENCE_SIP_TLS_KEY_PASSPHRASE' });
  });

  it('without their passphrase stop the process naming the setting to set', () => {
    const s = loadSettings(files);
    expect(() => frontEndTls(s)).toThrow(`${encryptedKey} is an encrypted private key: set its passphrase (PRESENCE_SIP_TLS_KEY_PASSPHRASE)`);
    expect(() => hepTapTls(s)).toThrow('(PRESENCE_HEP_TLS_KEY_PASSPHRASE)');
    expect(() => notifySinkTls(s)).toThrow('(PRESENCE_NOTIFY_TLS_KEY_PASSPHRASE)');
    expect(() => frontEndTls(loadSettings({ ...files, PRESENCE_SIP_TLS_KEY_PASSPHRASE: 'wrong' }))).toThrow(
      /PRESENCE_SIP_TLS_KEY_PASSPHRASE \(wrong passphrase\?\)/,
    );
  });
});
