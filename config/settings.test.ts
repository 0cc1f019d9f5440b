import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { explainSettings, loadSettings } from './settings.ts';

describe('settings', () => {
  it('defaults to the embedded local stack', () => {
    const s = loadSettings({ PRESENCE_CONFIG: undefined } as NodeJS.ProcessEnv);
    expect(s.kafka).toMatchObject({ brokers: '127.0.0.1:9092', external: false });
    expect(s.registry).toMatchObject({ url: 'http://127.0.0.1:8081/apis/ccompat/v7', external: false });
    expect(s.topics).toMatchObject({ prefix: 'presence.', partitions: 12 });
  });

  it('takes an external cluster and registry from the environment, over the config file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'presence-settings-'));
    const file = path.join(dir, 'presence.config.json');
    writeFileSync(file, JSON.stringify({ kafka: { brokers: 'file:9092' }, topics: { partitions: 24, prefix: 'prod.' } }));
    const s = loadSettings({ PRESENCE_CONFIG: file, PRESENCE_KAFKA_BROKERS: 'env-a:9092,env-b:9092', PRESENCE_REGISTRY_URL: 'http://sr:8081/' });
    expect(s.kafka).toMatchObject({ brokers: 'env-a:9092,env-b:9092', external: true });
    expect(s.registry).toMatchObject({ url: 'http://sr:8081', external: true });
    expect(s.topics).toMatchObject({ partitions: 24, prefix: 'prod.' });
  });

  it('rejects bad values with the setting named', () => {
    expect(() => loadSettings({ PRESENCE_PARTITIONS: 'many' })).toThrow(/PRESENCE_PARTITIONS must be a positive integer/);
    expect(() => loadSettings({ PRESENCE_EVENT_MANAGER_MAX_BATCH: '0' })).toThrow(/PRESENCE_EVENT_MANAGER_MAX_BATCH must be a positive integer/);
    expect(loadSettings({ PRESENCE_EVENT_MANAGER_MAX_BATCH: '2000' }).eventManager.maxBatch).toBe(2000);
    expect(loadSettings({ PRESENCE_CONFIG: undefined } as NodeJS.ProcessEnv).eventManager.maxBatch).toBe(500);
    expect(() => loadSettings({ PRESENCE_CONFIG: '/nonexistent/presence.json' })).toThrow(/does not exist/);
  });

  it('reads the front ends’ shared secrets from a file (<NAME>_FILE, or a { "file" } reference in the config), never as a literal in the config', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'presence-secrets-'));
    const nonce = path.join(dir, 'nonce');
    writeFileSync(nonce, 'n0nce-s3cret\n');
    const dialog = path.join(dir, 'dialog');
    writeFileSync(dialog, 'd1alog');
    const config = path.join(dir, 'presence.config.json');
    writeFileSync(config, JSON.stringify({ frontEnd: { dialogSecret: { file: dialog } } }));
    const s = loadSettings({ PRESENCE_CONFIG: config, PRESENCE_SIP_NONCE_SECRET_FILE: nonce, PRESENCE_HEP_AUTH_KEY: 'hep-key' });
    expect(s.frontEnd.auth.nonceSecret).toBe('n0nce-s3cret');
    expect(s.frontEnd.dialogSecret).toBe('d1alog');
    expect(s.hep.authKey).toBe('hep-key');
    writeFileSync(config, JSON.stringify({ frontEnd: { flowSecret: 'literal' } }));
    expect(() => loadSettings({ PRESENCE_CONFIG: config })).toThrow(/PRESENCE_FLOW_SECRET is a secret: the config file must reference it/);
    expect(() => loadSettings({ PRESENCE_SIP_NONCE_SECRET_FILE: path.join(dir, 'missing') })).toThrow(/PRESENCE_SIP_NONCE_SECRET: cannot read its file/);
  });

  it('takes every secret setting from <NAME>_FILE and from a { "file" } reference in the config, and refuses a literal in the config', () => {
    const secrets = explainSettings({ PRESENCE_CONFIG: undefined } as NodeJS.ProcessEnv).sources.filter((x) => x.secret);
    // The list is what the loader reads as secrets: a new one is covered (and must take files) without editing this test.
    expect(secrets.map((x) => x.env)).toEqual(
      expect.arrayContaining([
        'PRESENCE_KAFKA_PASSWORD',
        'PRESENCE_KAFKA_SSL_KEY_PASSWORD',
        'PRESENCE_KAFKA_OAUTHBEARER_CLIENT_SECRET',
        'PRESENCE_REGISTRY_PASSWORD',
        'PRESENCE_DATABASE_PASSWORD',
        'PRESENCE_HTTP_TOKEN',
        'PRESENCE_MLP_PASSWORD',
        'PRESENCE_HEP_AUTH_KEY',
        'PRESENCE_FLOW_SECRET',
        'PRESENCE_DIALOG_SECRET',
        'PRESENCE_SIP_NONCE_SECRET',
      ]),
    );
    const dir = mkdtempSync(path.join(os.tmpdir(), 'presence-secret-list-'));
    const config = path.join(dir, 'presence.config.json');
    const nested = (key: string, value: unknown): Record<string, unknown> =>
      key.split('.').reduceRight<Record<string, unknown>>((inner, k) => ({ [k]: inner }), value as Record<string, unknown>);
    for (const { env, key } of secrets) {
      const value = `from-file-${env.toLowerCase()}-0123456789abcdef0123456789`;
      const file = path.join(dir, env);
      writeFileSync(file, `${value}\n`);
      const viaEnvFile = JSON.stringify(loadSettings({ PRESENCE_CONFIG: undefined, [`${env}_FILE`]: file } as NodeJS.ProcessEnv));
      expect(viaEnvFile, `${env}_FILE`).toContain(value);
      writeFileSync(config, JSON.stringify(nested(key, { file })));
      const viaReference = JSON.stringify(loadSettings({ PRESENCE_CONFIG: config }));
      expect(viaReference, `${key}: { "file" }`).toContain(value);
      writeFileSync(config, JSON.stringify(nested(key, 'a-literal-secret')));
      expect(() => loadSettings({ PRESENCE_CONFIG: config }), `${key} as a literal`).toThrow(/is a secret: the config file must reference it/);
    }
  });
});
