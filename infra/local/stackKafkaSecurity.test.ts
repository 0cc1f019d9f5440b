import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSettings, stackClientSecurityFile } from '../../config/settings.ts';
import { recordStackKafkaSecurity, recordedStackKafkaSecurity, resolveStackKafkaSecurity } from './stackKafkaSecurity.ts';

function newHome(formatted: boolean): string {
  const home = mkdtempSync(path.join(os.tmpdir(), 'presence-stack-security-'));
  if (formatted) {
    mkdirSync(path.join(home, 'kafka', 'data'), { recursive: true });
    writeFileSync(path.join(home, 'kafka', 'data', 'meta.properties'), 'node.id=1\n');
  }
  return home;
}

describe('the embedded broker’s listener choice', () => {
  it('is plaintext for a new storage unless asked, and for a storage formatted before the choice existed', () => {
    expect(resolveStackKafkaSecurity(newHome(false), undefined)).toBe('plaintext');
    expect(resolveStackKafkaSecurity(newHome(false), 'sasl-ssl')).toBe('sasl-ssl');
    expect(recordedStackKafkaSecurity(newHome(true))).toBe('plaintext');
  });

  it('is remembered: a later start without the flag keeps it, another one is refused with what to do', () => {
    const home = newHome(true);
    recordStackKafkaSecurity(home, 'sasl-ssl');
    expect(resolveStackKafkaSecurity(home, undefined)).toBe('sasl-ssl');
    expect(resolveStackKafkaSecurity(home, 'sasl-ssl')).toBe('sasl-ssl');
    expect(() => resolveStackKafkaSecurity(home, 'plaintext')).toThrow(/formatted for sasl-ssl; to switch to plaintext, stop the stack/);
  });
});

describe('settings with a secured embedded stack', () => {
  const home = newHome(true);
  const passwordFile = path.join(home, 'pw');
  writeFileSync(passwordFile, 's3cret\n');
  writeFileSync(
    stackClientSecurityFile(home),
    JSON.stringify({
      kafka: { security: { protocol: 'SASL_SSL', saslMechanism: 'SCRAM-SHA-512', username: 'presence', password: { file: passwordFile }, caFile: '/ca.crt' } },
    }),
  );
  const env = { PRESENCE_HOME: home, PRESENCE_CONFIG: undefined } as NodeJS.ProcessEnv;

  it('uses what stack up wrote when nothing configures security', () => {
    expect(loadSettings(env).kafka.security).toMatchObject({ protocol: 'SASL_SSL', username: 'presence', password: 's3cret', caFile: '/ca.crt' });
  });

  it('lets the environment win, key by key or wholly', () => {
    expect(loadSettings({ ...env, PRESENCE_KAFKA_SSL_CA_FILE: '/other.crt' }).kafka.security.caFile).toBe('/other.crt');
    expect(loadSettings({ ...env, PRESENCE_KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT' }).kafka.security.protocol).toBe('PLAINTEXT');
  });

  it('ignores it for an external cluster', () => {
    expect(loadSettings({ ...env, PRESENCE_KAFKA_BROKERS: 'kafka.example:9092' }).kafka.security.protocol).toBe('PLAINTEXT');
  });
});
