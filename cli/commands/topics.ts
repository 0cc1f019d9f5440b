// `presence topics apply | list | codegen`
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadSettings, projectRoot } from '../../config/settings.ts';
import { applyTopology } from '../../kafka/applyTopology.ts';
import { repartition } from '../../kafka/repartition/repartition.ts';
import { ROLE_ACCESS } from '../../schemas/roleAccess.ts';
import { generateRecordTypes } from '../../schemas/codegen.ts';
import { TOPICS, partitionsOf, topicName, valueSubject } from '../../schemas/topology.ts';
import { withAdmin } from '../../kafka/kafkaAdmin.ts';
import { strimziTopics, strimziUsers } from '../../kafka/strimziResources.ts';
import { stringify } from 'yaml';
import { connectorSecrets, strimziConnectors } from '../../connectors/kafka-connect/strimziConnectors.ts';
import { schemaOptions, targetsOf, type SchemaOptions } from './connect.ts';

const say = (line: string) => process.stderr.write(`${line}\n`);

const generatedTypesPath = path.join(projectRoot, 'schemas/generated/records.ts');

export function registerTopicsCommands(program: Command): void {
  const topics = program.command('topics').description('the topic topology and its Avro schemas (schemas/topology.ts, schemas/avro)');

  topics
    .command('apply')
    .description('create or update every topic and register value schemas with BACKWARD compatibility (idempotent)')
    .action(async () => {
      const s = loadSettings();
      const { topics: changes, subjects } = await applyTopology(s, say);
      const created = changes.filter((c) => c.action === 'created').length;
      const updated = changes.filter((c) => c.action === 'config updated').length;
      process.stdout.write(`${changes.length} topics (${created} created, ${updated} updated), ${subjects.size} schemas registered\n`);
    });

  topics
    .command('repartition')
    .description(
      "move to a new subscriber partition count (Kafka cannot re-hash keys in place): with every role stopped and caught up, create the topology under a new prefix, copy the compacted topics (state changelogs, current presence, groups, profiles, directory) re-keyed, and carry each consumer group over at the copies' ends; then start the roles with the new prefix",
    )
    .requiredOption('--to-prefix <prefix>', 'topic prefix of the new topics, e.g. presence.v2.')
    .requiredOption('--partitions <n>', 'subscriber partitions of the new topics', (v) => Number(v))
    .option('--check', 'only check that the move can be made now (roles stopped and caught up, target empty); copy nothing')
    .option(
      '--not-deployed <roles>',
      `roles this system does not run (comma-separated: ${ROLE_ACCESS.map((r) => r.role).join(', ')}), whose topics' records nobody is to process`,
    )
    .action(async (opts: { toPrefix: string; partitions: number; check?: boolean; notDeployed?: string }) => {
      const s = loadSettings();
      const notDeployed = new Set(
        (opts.notDeployed ?? '')
          .split(',')
          .map((r) => r.trim())
          .filter(Boolean),
      );
      const unknownRoles = [...notDeployed].filter((r) => !ROLE_ACCESS.some((a) => a.role === r));
      if (unknownRoles.length) throw new Error(`--not-deployed: no role ${unknownRoles.join(', ')} (roles: ${ROLE_ACCESS.map((r) => r.role).join(', ')})`);
      const r = await repartition(s, { prefix: opts.toPrefix, partitions: opts.partitions }, { checkOnly: opts.check === true, notDeployed, log: say });
      const groups = `${r.carried.length} consumer group(s) to carry over${r.notCarried.length ? `; not carried (outside the prefix, they read the new topics from the start): ${r.notCarried.join(', ')}` : ''}`;
      if (opts.check) {
        process.stdout.write(`ready: ${r.from.prefix} (${r.from.partitions} partitions) → ${r.to.prefix} (${r.to.partitions} partitions); ${groups}\n`);
        return;
      }
      const records = r.copied.reduce((n, c) => n + c.records, 0);
      process.stdout.write(
        `repartitioned ${r.from.prefix} (${r.from.partitions} partitions) → ${r.to.prefix} (${r.to.partitions} partitions) in ${r.seconds.toFixed(1)} s: ` +
          `${records} records of ${r.copied.length} compacted topics copied, ${groups}\n` +
          `next: start every role with PRESENCE_TOPIC_PREFIX=${r.to.prefix} PRESENCE_PARTITIONS=${r.to.partitions} (topics.prefix, topics.partitions), ` +
          `re-apply the connectors (presence connect apply) with them; the ${r.from.prefix} topics can be deleted once the new ones serve\n`,
      );
    });

  topics
    .command('list')
    .description('the declared topology, and whether each topic exists on the cluster')
    .option('--offline', 'only print the declared topology, without asking the cluster')
    .action(async (opts: { offline?: boolean }) => {
      const s = loadSettings();
      const existing = opts.offline ? undefined : await withAdmin(s.kafka.brokers, (a) => a.listTopics()).then((l) => new Set(l));
      for (const t of TOPICS) {
        const name = topicName(s.topics.prefix, t.name);
        const state = existing ? (existing.has(name) ? 'exists ' : 'MISSING') : '';
        process.stdout.write(
          `${state ? `${state} ` : ''}${name.padEnd(48)} key=${t.key.padEnd(10)} value=${t.valueSchema.padEnd(15)} ${t.cleanupPolicy.padEnd(7)} ` +
            `${String(partitionsOf(t, s.topics.partitions)).padStart(3)}p  subject ${valueSubject(s.topics.prefix, t.name)}  — ${t.description}\n`,
        );
      }
    });

  const render = topics
    .command('render')
    .description(
      'the topology as resources for other tooling: Strimzi KafkaTopic objects, a KafkaUser per role with the ACLs it needs, and a KafkaConnector per connector of `presence connect` (YAML on stdout, for kubectl apply or GitOps)',
    )
    .option('--format <format>', 'strimzi', 'strimzi')
    .option('--cluster <name>', 'the Strimzi Kafka cluster (label strimzi.io/cluster)', 'presence')
    .option('--namespace <ns>', 'metadata.namespace of every resource')
    .option('--authentication <type>', 'KafkaUser authentication: scram-sha-512 or tls', 'scram-sha-512')
    .option('--no-users', 'KafkaTopic resources only (the cluster has no authorizer, or users are managed elsewhere)')
    .option('--connect-cluster <name>', 'the Strimzi KafkaConnect that runs the connectors (their strimzi.io/cluster label)', 'presence-connect')
    .option('--no-connectors', 'no KafkaConnector resources (Connect is not run by Strimzi, or `presence connect apply` manages them)');
  schemaOptions(render).action(
    (
      opts: {
        format: string;
        cluster: string;
        namespace?: string;
        authentication: string;
        users: boolean;
        connectors: boolean;
        connectCluster: string;
      } & SchemaOptions,
    ) => {
      if (opts.format !== 'strimzi') throw new Error(`--format must be strimzi, not ${opts.format}`);
      if (opts.authentication !== 'scram-sha-512' && opts.authentication !== 'tls')
        throw new Error(`--authentication must be scram-sha-512 or tls, not ${opts.authentication}`);
      const s = loadSettings();
      const where = { cluster: opts.cluster, ...(opts.namespace ? { namespace: opts.namespace } : {}) };
      const targets = targetsOf(s, opts);
      const docs = [
        ...strimziTopics(s, where),
        ...(opts.users ? strimziUsers(s, { ...where, authentication: opts.authentication }) : []),
        ...(opts.connectors
          ? strimziConnectors(s, { connectCluster: opts.connectCluster, ...(opts.namespace ? { namespace: opts.namespace } : {}), targets })
          : []),
      ];
      process.stdout.write(docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n'));
      // The connectors reference their secrets; say what the KafkaConnect must provide (stderr: stdout stays applyable YAML).
      if (opts.connectors)
        say(
          `KafkaConnectors: the KafkaConnect ${opts.connectCluster} needs the annotation strimzi.io/use-connector-resources: "true", ` +
            `config.providers: env with config.providers.env.class: org.apache.kafka.common.config.provider.EnvVarConfigProvider, ` +
            `and these environment variables from a Secret (spec.template.connectContainer.env): ${connectorSecrets(s, targets)
              .map((x) => x.env)
              .join(', ')}`,
        );
    },
  );

  topics
    .command('codegen')
    .description('regenerate schemas/generated/records.ts (TypeScript record types) from schemas/avro')
    .action(() => {
      writeFileSync(generatedTypesPath, generateRecordTypes());
      say(`wrote ${path.relative(process.cwd(), generatedTypesPath)}`);
    });
}
