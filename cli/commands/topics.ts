// `presence topics apply | list | codegen`
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadSettings, projectRoot } from '../../config/settings.ts';
import { applyTopology } from '../../kafka/applyTopology.ts';
import { generateRecordTypes } from '../../schemas/codegen.ts';
import { TOPICS, partitionsOf, topicName, valueSubject } from '../../schemas/topology.ts';
import { withAdmin } from '../../kafka/kafkaAdmin.ts';
import { strimziTopics, strimziUsers } from '../../kafka/strimziResources.ts';
import { stringify } from 'yaml';

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

  topics
    .command('render')
    .description(
      'the topology as resources for other tooling: Strimzi KafkaTopic objects and a KafkaUser per role with the ACLs it needs (YAML on stdout, for kubectl apply or GitOps)',
    )
    .option('--format <format>', 'strimzi', 'strimzi')
    .option('--cluster <name>', 'the Strimzi Kafka cluster (label strimzi.io/cluster)', 'presence')
    .option('--namespace <ns>', 'metadata.namespace of every resource')
    .option('--authentication <type>', 'KafkaUser authentication: scram-sha-512 or tls', 'scram-sha-512')
    .option('--no-users', 'KafkaTopic resources only (the cluster has no authorizer, or users are managed elsewhere)')
    .action((opts: { format: string; cluster: string; namespace?: string; authentication: string; users: boolean }) => {
      if (opts.format !== 'strimzi') throw new Error(`--format must be strimzi, not ${opts.format}`);
      if (opts.authentication !== 'scram-sha-512' && opts.authentication !== 'tls')
        throw new Error(`--authentication must be scram-sha-512 or tls, not ${opts.authentication}`);
      const s = loadSettings();
      const where = { cluster: opts.cluster, ...(opts.namespace ? { namespace: opts.namespace } : {}) };
      const docs = [...strimziTopics(s, where), ...(opts.users ? strimziUsers(s, { ...where, authentication: opts.authentication }) : [])];
      process.stdout.write(docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n'));
    });

  topics
    .command('codegen')
    .description('regenerate schemas/generated/records.ts (TypeScript record types) from schemas/avro')
    .action(() => {
      writeFileSync(generatedTypesPath, generateRecordTypes());
      say(`wrote ${path.relative(process.cwd(), generatedTypesPath)}`);
    });
}
