// Issue 14 item 6: `topics render --format strimzi` emits our connectors as KafkaConnector
// resources, built from the definitions `presence connect apply` submits, secrets referenced.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadSettings } from '../../config/settings.ts';
import { buildProgram } from '../../cli/main.ts';
import { connectorSpecs, defaultTargets } from './connectorConfigs.ts';
import { connectorSecrets, strimziConnectors } from './strimziConnectors.ts';

const PASSWORD = 'pw-s3cret-not-in-yaml';
const s = loadSettings({ PRESENCE_DATABASE_URL: `postgres://app:${PASSWORD}@db.example:5433/presence` });

/** A resource's config as `presence connect` submits it: class and tasks back in, each ${env:X} replaced by what X would hold. */
function asSubmitted(r: ReturnType<typeof strimziConnectors>[number], secrets: Record<string, string>): Record<string, string> {
  const config = Object.fromEntries(
    Object.entries(r.spec.config).map(([k, v]) => [k, v.replace(/^\$\{env:([A-Z0-9_]+)\}$/, (_, env: string) => secrets[env] ?? `<unset ${env}>`)]),
  );
  return { 'connector.class': r.spec.class, 'tasks.max': String(r.spec.tasksMax), ...config };
}

describe('Strimzi KafkaConnector resources', () => {
  const specs = connectorSpecs(s);
  const res = strimziConnectors(s, { connectCluster: 'connect-a', namespace: 'telco' });

  it('one per connector of `presence connect`, in the shape the Strimzi connector operator takes', () => {
    expect(res.map((r) => r.metadata.name)).toEqual(specs.map((c) => c.name));
    for (const r of res) {
      expect(r.apiVersion).toBe('kafka.strimzi.io/v1beta2');
      expect(r.kind).toBe('KafkaConnector');
      expect(r.metadata.name).toMatch(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/);
      expect(r.metadata.labels['strimzi.io/cluster']).toBe('connect-a');
      expect(r.metadata.namespace).toBe('telco');
      expect(r.spec.class).toMatch(/^io\.debezium\./);
      expect(r.spec.tasksMax).toBe(1);
      expect(r.spec.state).toBe('running');
      // Strimzi owns these two as spec fields; in config they would be ignored or conflict.
      expect(r.spec.config).not.toHaveProperty('connector.class');
      expect(r.spec.config).not.toHaveProperty('tasks.max');
      for (const v of Object.values(r.spec.config)) expect(typeof v).toBe('string');
    }
  });

  it('carry exactly the config `presence connect` submits, the secrets aside', () => {
    const secrets = { PRESENCE_CONNECT_SINK_CONNECTION_PASSWORD: PASSWORD, PRESENCE_CONNECT_SOURCE_DATABASE_PASSWORD: PASSWORD };
    for (const [i, r] of res.entries()) expect(asSubmitted(r, secrets), r.metadata.name).toEqual(specs[i]!.config);
    // The schema flags reach the connectors as they reach `presence connect`.
    const targets = defaultTargets(s, { sink: 'reporting', directory: 'dir', group: 'grp' });
    const moved = strimziConnectors(s, { connectCluster: 'c', targets });
    for (const [i, spec] of connectorSpecs(s, targets).entries()) expect(asSubmitted(moved[i]!, secrets)).toEqual(spec.config);
  });

  it('reference every secret through the worker environment, never inline it', () => {
    const yaml = JSON.stringify(res);
    expect(yaml).not.toContain(PASSWORD);
    const sink = res.find((r) => r.metadata.labels['app.kubernetes.io/component'] === 'sink')!;
    const source = res.find((r) => r.metadata.labels['app.kubernetes.io/component'] === 'source')!;
    expect(sink.spec.config['connection.password']).toBe('${env:PRESENCE_CONNECT_SINK_CONNECTION_PASSWORD}');
    expect(source.spec.config['database.password']).toBe('${env:PRESENCE_CONNECT_SOURCE_DATABASE_PASSWORD}');
    expect(sink.metadata.annotations['presence-gateway/secret-env']).toBe('PRESENCE_CONNECT_SINK_CONNECTION_PASSWORD');
    expect(connectorSecrets(s).map((x) => x.env)).toEqual(['PRESENCE_CONNECT_SINK_CONNECTION_PASSWORD', 'PRESENCE_CONNECT_SOURCE_DATABASE_PASSWORD']);
  });

  it("reference the registry's basic auth through the worker environment too", () => {
    const withAuth = loadSettings({
      PRESENCE_DATABASE_URL: `postgres://app:${PASSWORD}@db.example:5433/presence`,
      PRESENCE_REGISTRY_URL: 'https://registry.example.net/apis/ccompat/v7',
      PRESENCE_REGISTRY_USERNAME: 'presence',
      PRESENCE_REGISTRY_PASSWORD: 'reg-pw-not-in-yaml',
    });
    const rendered = strimziConnectors(withAuth, { connectCluster: 'c' });
    expect(JSON.stringify(rendered)).not.toContain('reg-pw-not-in-yaml');
    for (const r of rendered) expect(r.spec.config['value.converter.apicurio.auth.password']).toMatch(/^\$\{env:PRESENCE_CONNECT_[A-Z_]+\}$/);
  });
});

describe('presence topics render --format strimzi', () => {
  const saved = { ...process.env };
  afterEach(() => {
    vi.restoreAllMocks();
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });

  async function render(args: string[]): Promise<Array<{ kind: string; metadata: { name: string } }>> {
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await buildProgram()
      .exitOverride()
      .parseAsync(['node', 'presence', 'topics', 'render', '--format', 'strimzi', ...args]);
    return parseAllDocuments(out).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
  }

  it('emits the KafkaConnectors after the topics and users, and leaves them out with --no-connectors', async () => {
    process.env.PRESENCE_DATABASE_URL = `postgres://app:${PASSWORD}@db.example:5433/presence`;
    const docs = await render(['--connect-cluster', 'my-connect', '--sink-schema', 'reporting']);
    const connectors = docs.filter((d) => d.kind === 'KafkaConnector') as unknown as ReturnType<typeof strimziConnectors>;
    expect(connectors.map((c) => c.metadata.name)).toEqual(connectorSpecs(loadSettings()).map((c) => c.name));
    expect(connectors.every((c) => c.metadata.labels['strimzi.io/cluster'] === 'my-connect')).toBe(true);
    expect(connectors[0]!.spec.config['collection.name.format']).toMatch(/^reporting\./);
    expect(new Set(docs.map((d) => d.kind))).toEqual(new Set(['KafkaTopic', 'KafkaUser', 'KafkaConnector']));
    expect(JSON.stringify(docs)).not.toContain(PASSWORD);
    expect((await render(['--no-connectors'])).some((d) => d.kind === 'KafkaConnector')).toBe(false);
  });
});
