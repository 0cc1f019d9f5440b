import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeSettings, loadSettings } from '../config/settings.ts';
import { kafkajsSecurity, rdkafkaSecurity } from './kafkaSecurity.ts';

describe('Kafka security settings', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'presence-sec-'));
  const secretFile = path.join(dir, 'pw');
  writeFileSync(secretFile, 's3cret\n');
  const config = path.join(dir, 'c.json');
  writeFileSync(
    config,
    JSON.stringify({
      kafka: {
        security: {
          protocol: 'SASL_SSL',
          saslMechanism: 'SCRAM-SHA-256',
          username: 'gw',
          password: { file: secretFile },
          caFile: '/ca.pem',
          verifyHostname: false,
        },
      },
    }),
  );

  it('maps SASL_SSL/SCRAM from the config file (password by file reference) to librdkafka and kafkajs', () => {
    const s = loadSettings({ PRESENCE_CONFIG: config }).kafka.security;
    expect(rdkafkaSecurity(s)).toEqual({
      'security.protocol': 'sasl_ssl',
      'sasl.mechanisms': 'SCRAM-SHA-256',
      'sasl.username': 'gw',
      'sasl.password': 's3cret',
      'ssl.ca.location': '/ca.pem',
      'ssl.endpoint.identification.algorithm': 'none',
    });
    expect(() => kafkajsSecurity(s)).toThrow(/ENOENT|no such file/); // the CA file is read for kafkajs
  });

  it('refuses a literal secret in the config file and masks secrets in output', () => {
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ kafka: { security: { password: 'plain' } } }));
    expect(() => loadSettings({ PRESENCE_CONFIG: bad })).toThrow(/must reference it/);
    const text = describeSettings(loadSettings({ PRESENCE_CONFIG: config })).join('\n');
    expect(text).toContain('password ****');
    expect(text).not.toContain('s3cret');
  });

  it('SASL without credentials is a clear error', () => {
    expect(() => loadSettings({ PRESENCE_CONFIG: undefined, PRESENCE_KAFKA_SECURITY_PROTOCOL: 'SASL_SSL' } as NodeJS.ProcessEnv)).toThrow(
      /needs a username and a password/,
    );
  });
});
