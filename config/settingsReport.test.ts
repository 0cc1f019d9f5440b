import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeSettings, loadSettings, projectRoot } from './settings.ts';
import { exampleConfig, formatRows, settingRows } from './settingsReport.ts';

function configFile(content: unknown): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'presence-config-')), 'presence.config.json');
  writeFileSync(file, JSON.stringify(content));
  return file;
}

const row = (rows: ReturnType<typeof settingRows>['rows'], env: string) => rows.find((r) => r.env === env);

describe('presence config show', () => {
  it('names each value in force and where it came from: env over file over default', () => {
    const file = configFile({ kafka: { heapMb: 1024 }, topics: { partitions: 24, prefix: 'from-file.' } });
    const { rows, configFile: used } = settingRows({ PRESENCE_CONFIG: file, PRESENCE_TOPIC_PREFIX: 'from-env.' });
    expect(used).toBe(file);
    expect(row(rows, 'PRESENCE_TOPIC_PREFIX')).toEqual({ env: 'PRESENCE_TOPIC_PREFIX', key: 'topics.prefix', from: 'env', value: 'from-env.' });
    expect(row(rows, 'PRESENCE_PARTITIONS')).toMatchObject({ from: 'file', value: 24 });
    expect(row(rows, 'PRESENCE_KAFKA_HEAP_MB')).toMatchObject({ from: 'file', value: 1024 });
    expect(row(rows, 'PRESENCE_REPLICATION_FACTOR')).toMatchObject({ from: 'default', value: 1 });
    // Parsed, not as given: the settings' own types.
    expect(row(rows, 'PRESENCE_SIP_DIGEST_ALGORITHMS')).toMatchObject({ from: 'default', value: ['SHA-256', 'MD5'] });
    // Keys the settings keep under another path still show their value in force.
    expect(row(rows, 'PRESENCE_HTTP_MAX_HEADER_BYTES')).toMatchObject({ from: 'default', value: 16384 });
  });

  it('never prints a secret, from the environment or from a file reference', () => {
    const secretFile = path.join(mkdtempSync(path.join(tmpdir(), 'presence-secret-')), 'pw');
    writeFileSync(secretFile, 'file-secret\n');
    const file = configFile({ registry: { username: 'reg', password: { file: secretFile } } });
    const env = { PRESENCE_CONFIG: file, PRESENCE_SIP_NONCE_SECRET: 'env-secret', PRESENCE_HEP_AUTH_KEY: 'hep-key', PRESENCE_FLOW_SECRET: 'f1ow-s3cr3t' };
    const { rows } = settingRows(env);
    const printed = formatRows(rows).join('\n') + JSON.stringify(rows);
    for (const secret of ['file-secret', 'env-secret', 'hep-key', 'f1ow-s3cr3t', secretFile]) expect(printed).not.toContain(secret);
    expect(row(rows, 'PRESENCE_REGISTRY_PASSWORD')).toMatchObject({ from: 'file', value: '****' });
    expect(row(rows, 'PRESENCE_SIP_NONCE_SECRET')).toMatchObject({ from: 'env', value: '****' });
    expect(row(rows, 'PRESENCE_REGISTRY_USERNAME')).toMatchObject({ from: 'file', value: 'reg' });
  });

  it('never prints the database password, set apart or inside the URL, nor does the settings summary', () => {
    for (const env of [
      { PRESENCE_CONFIG: undefined, PRESENCE_DATABASE_URL: 'postgres://presence@db.example.net:5432/presence', PRESENCE_DATABASE_PASSWORD: 'S3CRETPW' },
      { PRESENCE_CONFIG: undefined, PRESENCE_DATABASE_URL: 'postgres://presence:S3CRETPW@db.example.net:5432/presence' },
    ]) {
      const { rows } = settingRows(env);
      const printed = formatRows(rows).join('\n') + JSON.stringify(rows) + describeSettings(loadSettings(env)).join('\n');
      expect(printed).not.toContain('S3CRETPW');
      expect(row(rows, 'PRESENCE_DATABASE_URL')?.value).toBe('postgres://presence:****@db.example.net:5432/presence');
      if (env.PRESENCE_DATABASE_PASSWORD) expect(row(rows, 'PRESENCE_DATABASE_PASSWORD')).toMatchObject({ from: 'env', value: '****' });
    }
  });

  it('refuses an invalid value with the setting named, as every command does', () => {
    expect(() => settingRows({ PRESENCE_HANDOFF: 'sideways' })).toThrow(/PRESENCE_HANDOFF/);
  });
});

describe('presence config example', () => {
  it('is the committed presence.config.example.json, and loading it changes no setting', () => {
    const example = exampleConfig();
    expect(JSON.parse(readFileSync(path.join(projectRoot, 'presence.config.example.json'), 'utf8'))).toEqual(example);
    const defaults = settingRows({ PRESENCE_HOME: '.presence' }).rows;
    const fromExample = settingRows({ PRESENCE_CONFIG: configFile(example) }).rows;
    expect(fromExample.map((r) => [r.env, r.value])).toEqual(defaults.map((r) => [r.env, r.value]));
  });

  it('documents every setting in the README configuration table', () => {
    const readme = readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Security'));
    const missing = settingRows({})
      .rows.filter((r) => !table.includes(`\`${r.env}\``))
      .map((r) => r.env);
    expect(missing).toEqual([]);
  });
});
