import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeSettings, loadSettings } from '../config/settings.ts';
import { generateKeyPairSync } from 'node:crypto';
import { javaClientSecurity, javaProperties, kafkajsSecurity, PLAINTEXT, rdkafkaSecurity } from './kafkaSecurity.ts';

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

  it('maps SCRAM over SSL to Java client properties (Kafka Connect), escaping the password for JAAS and .properties', () => {
    const s = { ...loadSettings({ PRESENCE_CONFIG: config }).kafka.security, password: 'a"b\\c' };
    const java = javaClientSecurity(s);
    expect(java).toEqual({
      'security.protocol': 'SASL_SSL',
      'sasl.mechanism': 'SCRAM-SHA-256',
      'sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required username="gw" password="a\\"b\\\\c";',
      'ssl.truststore.type': 'PEM',
      'ssl.truststore.location': '/ca.pem',
      'ssl.endpoint.identification.algorithm': '',
    });
    const lines = javaProperties(java, ['', 'producer.']).split('\n');
    expect(lines).toHaveLength(12);
    // Properties.load turns each \\ back into one \: the JAAS parser then sees password="a\"b\\c".
    expect(lines).toContain(
      'producer.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="gw" password="a\\\\"b\\\\\\\\c";',
    );
  });

  it('puts a client certificate into a Java PEM keystore with a PKCS#8 key, and OAUTHBEARER oidc into the Java login module', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const keyFile = path.join(dir, 'client.key');
    const certFile = path.join(dir, 'client.crt');
    writeFileSync(keyFile, privateKey.export({ type: 'sec1', format: 'pem' }));
    writeFileSync(certFile, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    const mtls = javaClientSecurity({ ...PLAINTEXT, protocol: 'SSL', certFile, keyFile });
    expect(mtls['ssl.keystore.key']).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(javaProperties({ k: mtls['ssl.keystore.certificate.chain']! })).toBe('k=-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----');

    const oidc = {
      ...PLAINTEXT,
      protocol: 'SASL_SSL' as const,
      saslMechanism: 'OAUTHBEARER' as const,
      oauthbearer: {
        'sasl.oauthbearer.method': 'oidc',
        'sasl.oauthbearer.client.id': 'gw',
        'sasl.oauthbearer.client.secret': 'shh',
        'sasl.oauthbearer.token.endpoint.url': 'https://idp.example/token',
      },
    };
    expect(javaClientSecurity(oidc)).toMatchObject({
      'sasl.mechanism': 'OAUTHBEARER',
      'sasl.oauthbearer.token.endpoint.url': 'https://idp.example/token',
      'sasl.jaas.config': 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="gw" clientSecret="shh";',
    });
    expect(() => javaClientSecurity({ ...oidc, oauthbearer: {} })).toThrow(/only as sasl.oauthbearer.method "oidc"/);
  });

  it('OAUTHBEARER oidc: librdkafka gets only the mechanism (our token is set at connect), kafkajs a token provider; the unsecured default passes through', () => {
    const oidc = {
      ...PLAINTEXT,
      protocol: 'SASL_SSL' as const,
      saslMechanism: 'OAUTHBEARER' as const,
      oauthbearer: {
        'sasl.oauthbearer.method': 'oidc',
        'sasl.oauthbearer.token.endpoint.url': 'http://127.0.0.1:1/token',
        'sasl.oauthbearer.client.id': 'gw',
        'sasl.oauthbearer.client.secret': 'shh',
      },
    };
    const rd = rdkafkaSecurity(oidc);
    expect(rd['sasl.mechanisms']).toBe('OAUTHBEARER');
    // This librdkafka build refuses sasl.oauthbearer.method (no libcurl): none of them may reach it.
    expect(Object.keys(rd).filter((k) => k.startsWith('sasl.oauthbearer.'))).toEqual([]);
    const js = kafkajsSecurity(oidc);
    expect(js.sasl).toMatchObject({ mechanism: 'oauthbearer' });
    expect(typeof (js.sasl as { oauthBearerProvider?: unknown }).oauthBearerProvider).toBe('function');
    const unsecured = { ...oidc, oauthbearer: { 'sasl.oauthbearer.config': 'principal=admin' } };
    expect(rdkafkaSecurity(unsecured)['sasl.oauthbearer.config']).toBe('principal=admin');
  });
});
