// Our connectors as Strimzi KafkaConnector resources (`presence topics render
// --format strimzi`), for clusters whose Connect is a Strimzi KafkaConnect with
// `strimzi.io/use-connector-resources: "true"`: the connector operator then does
// what `presence connect apply` does over REST. Built from the same definitions
// (connectorConfigs.ts), so the two cannot drift.
//
// Secrets are never inlined: a resource is read by anyone who reads the
// namespace (and ends up in Git). Every secret config value becomes
// `${env:NAME}`, resolved on the worker by Kafka's EnvVarConfigProvider
// (Kafka >= 3.5) from an environment variable the KafkaConnect fills from a
// Kubernetes Secret (spec.template.connectContainer.env[].valueFrom.secretKeyRef).
// Chosen over Strimzi's KubernetesSecretConfigProvider (`${secrets:ns/name:key}`)
// because it needs no namespace in the reference and no RBAC Role for the worker.
import type { Settings } from '../../config/settings.ts';
import { resourceName } from '../../kafka/strimziResources.ts';
import { type ConnectorSpec, type ConnectorTargets, connectorSpecs, defaultTargets } from './connectorConfigs.ts';

export interface KafkaConnectorResource {
  apiVersion: 'kafka.strimzi.io/v1beta2';
  kind: 'KafkaConnector';
  metadata: { name: string; namespace?: string; labels: Record<string, string>; annotations: Record<string, string> };
  /** Strimzi takes the class and task count as fields of their own, not in `config`. */
  spec: { class: string; tasksMax: number; state: 'running'; config: Record<string, string> };
}

/** Config keys whose values are secrets (database passwords; registry or SASL credentials should a definition gain them). */
const SECRET_KEY = /password|secret|user\.info|jaas\.config/i;

/** The worker environment variable a secret config value is read from: one per kind and key, so the two sinks share the sink database's password. */
export function secretEnvOf(spec: Pick<ConnectorSpec, 'kind'>, key: string): string {
  return `PRESENCE_CONNECT_${spec.kind.toUpperCase()}_${key.replace(/[^A-Za-z0-9]+/g, '_').toUpperCase()}`;
}

/** Each secret of our connectors: the environment variable the KafkaConnect must set, and the config keys that read it. */
export function connectorSecrets(s: Settings, targets: ConnectorTargets = defaultTargets(s)): Array<{ env: string; keys: string[] }> {
  const byEnv = new Map<string, Set<string>>();
  for (const spec of connectorSpecs(s, targets))
    for (const key of Object.keys(spec.config).filter((k) => SECRET_KEY.test(k))) {
      const env = secretEnvOf(spec, key);
      byEnv.set(env, (byEnv.get(env) ?? new Set()).add(key));
    }
  return [...byEnv].map(([env, keys]) => ({ env, keys: [...keys] }));
}

export function strimziConnectors(s: Settings, o: { connectCluster: string; namespace?: string; targets?: ConnectorTargets }): KafkaConnectorResource[] {
  return connectorSpecs(s, o.targets ?? defaultTargets(s)).map((spec) => {
    const { 'connector.class': cls, 'tasks.max': tasksMax, ...rest } = spec.config;
    const secrets: string[] = [];
    const config = Object.fromEntries(
      Object.entries(rest).map(([key, value]) => {
        if (!SECRET_KEY.test(key)) return [key, value];
        secrets.push(secretEnvOf(spec, key));
        return [key, `\${env:${secretEnvOf(spec, key)}}`];
      }),
    );
    return {
      apiVersion: 'kafka.strimzi.io/v1beta2',
      kind: 'KafkaConnector',
      metadata: {
        name: resourceName(spec.name),
        ...(o.namespace ? { namespace: o.namespace } : {}),
        // The label names the KafkaConnect cluster (not the Kafka cluster) that runs the connector.
        labels: { 'strimzi.io/cluster': o.connectCluster, 'app.kubernetes.io/part-of': 'presence-gateway', 'app.kubernetes.io/component': spec.kind },
        annotations: {
          'presence-gateway/description': spec.description,
          ...(secrets.length ? { 'presence-gateway/secret-env': [...new Set(secrets)].join(', ') } : {}),
        },
      },
      spec: { class: cls!, tasksMax: Number(tasksMax ?? '1'), state: 'running', config },
    };
  });
}
