// The TLS settings are checked and read at start: half a configuration, a
// missing file or a file that is no PEM stop the process with the setting's name.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings, type Settings } from './settings.ts';
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
