// `presence connect apply | status | delete | render`: our Kafka Connect
// connectors (connectors/kafka-connect) on the embedded worker or any
// Connect cluster (PRESENCE_CONNECT_URL / --url), through its REST API.
import type { Command } from 'commander';
import { loadSettings, type Settings } from '../../config/settings.ts';
import { connectUrl } from '../../infra/connect/connectWorker.ts';
import { applyConnectors, connectorStatus, deleteConnector } from '../../connectors/kafka-connect/connectApply.ts';
import { DEFAULT_SINK_SCHEMA, connectorSpecs, defaultTargets } from '../../connectors/kafka-connect/connectorConfigs.ts';

const say = (line: string) => process.stderr.write(`${line}\n`);

function only(v: string | undefined): 'sink' | 'source' | undefined {
  if (v === undefined) return undefined;
  if (v === 'sink' || v === 'sinks') return 'sink';
  if (v === 'source' || v === 'sources') return 'source';
  throw new Error(`--only takes sinks or sources, not ${v}`);
}

export interface SchemaOptions {
  sinkSchema: string;
  directorySchema: string;
  groupSchema: string;
}

/** The schema flags of `presence connect`; `topics render --format strimzi` takes them too, so both render the same connectors. */
export const schemaOptions = (c: Command) =>
  c
    .option('--sink-schema <name>', 'PostgreSQL schema of the sink tables current_presence and group_presence', DEFAULT_SINK_SCHEMA)
    .option('--directory-schema <name>', 'schema of the subscriber directory table subscribers (as `presence directory` uses)', 'presence')
    .option('--group-schema <name>', "schema of the group service's group_members (as `presence run group-service --schema`)", 'presence');

export const targetsOf = (s: Settings, o: SchemaOptions) => defaultTargets(s, { sink: o.sinkSchema, directory: o.directorySchema, group: o.groupSchema });

export function registerConnectCommands(program: Command): void {
  const connect = program
    .command('connect')
    .description('our Kafka Connect connectors: presence and group presence into PostgreSQL, directory and group membership CDC into topics');
  const urlOption = (c: Command) =>
    c.option('--url <url>', 'Connect REST API (default $PRESENCE_CONNECT_URL or http://127.0.0.1:$PRESENCE_CONNECT_PORT, 8083)');

  urlOption(schemaOptions(connect.command('apply')))
    .description('create or update every connector (idempotent); sink tables are created first; CDC sources need wal_level=logical')
    .option('--only <kind>', 'sinks or sources')
    .action(async (o: { url?: string; only?: string } & SchemaOptions) => {
      const s = loadSettings();
      const url = o.url ?? connectUrl(s);
      const outcomes = await applyConnectors(s, url, { only: only(o.only), targets: targetsOf(s, o) });
      for (const r of outcomes) process.stdout.write(`${r.name.padEnd(48)} ${r.result}${r.reason ? `: ${r.reason}` : ''}\n`);
      if (outcomes.some((r) => r.result === 'refused')) process.exitCode = 1;
    });

  urlOption(connect.command('status'))
    .description('state of each connector and its tasks (exit code 1 when one is missing, has no task yet or is not RUNNING)')
    .option('--only <kind>', 'sinks or sources (after `apply --only`)')
    .action(async (o: { url?: string; only?: string }) => {
      const s = loadSettings();
      const url = o.url ?? connectUrl(s);
      const kind = only(o.only);
      let bad = false;
      for (const spec of connectorSpecs(s).filter((c) => !kind || c.kind === kind)) {
        const st = await connectorStatus(url, spec.name);
        if (!st) {
          bad = true;
          process.stdout.write(`${spec.name.padEnd(48)} not applied\n`);
          continue;
        }
        // Right after apply the worker has not assigned the task yet: not running either.
        const tasks = st.tasks.map((t) => `task ${t.id} ${t.state}`).join(', ') || 'no task yet';
        if (st.state !== 'RUNNING' || st.tasks.length === 0 || st.tasks.some((t) => t.state !== 'RUNNING')) bad = true;
        process.stdout.write(`${spec.name.padEnd(48)} ${st.state} (${tasks})\n`);
        for (const t of st.tasks) if (t.trace) say(`  task ${t.id}: ${t.trace.split('\n')[0]}`);
      }
      if (bad) process.exitCode = 1;
    });

  urlOption(connect.command('delete'))
    .description('remove our connectors from the cluster (tables, topics and replication slots are kept)')
    .action(async (o: { url?: string }) => {
      const s = loadSettings();
      const url = o.url ?? connectUrl(s);
      for (const spec of connectorSpecs(s))
        process.stdout.write(`${spec.name.padEnd(48)} ${(await deleteConnector(url, spec.name)) ? 'deleted' : 'not present'}\n`);
    });

  schemaOptions(connect.command('render'))
    .description("print the connector configurations as JSON ({name, config} per line) for an operator's own Connect tooling")
    .action((o: SchemaOptions) => {
      const s = loadSettings();
      for (const spec of connectorSpecs(s, targetsOf(s, o))) process.stdout.write(`${JSON.stringify({ name: spec.name, config: spec.config })}\n`);
    });
}
