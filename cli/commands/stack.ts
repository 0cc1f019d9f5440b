// `presence stack up | down | status | certs`
import { Option, type Command } from 'commander';
import { STACK_KAFKA_SECURITY, type StackKafkaSecurity } from '../../infra/local/stackKafkaSecurity.ts';
import { describeSettings, loadSettings } from '../../config/settings.ts';
import { formatStatus, stackDown, stackStatus, stackUp } from '../../infra/local/stack.ts';
import { fleet } from '../../infra/local/eventManagerFleet.ts';
import { writeLocalCertificates } from '../../infra/local/testCertificates.ts';
import path from 'node:path';

const say = (line: string) => process.stderr.write(`${line}\n`);

export function registerStackCommands(program: Command): void {
  const stack = program.command('stack').description('the local stack: Kafka (KRaft), Schema Registry (Apicurio, Confluent API), PostgreSQL');

  stack
    .command('up')
    .description('start what is not running and wait until every part answers (idempotent)')
    .option(
      '--with-connect',
      'also start a Kafka Connect worker (Debezium JDBC sink and PostgreSQL source, Apicurio Avro converter) on 127.0.0.1:$PRESENCE_CONNECT_PORT (8083)',
    )
    .addOption(
      new Option(
        '--kafka-security <mode>',
        "the embedded broker's client listener: sasl-ssl (SCRAM-SHA-512 over TLS, a throwaway local CA; every command then uses it) or plaintext; chosen when its storage is first formatted, remembered after",
      ).choices(STACK_KAFKA_SECURITY),
    )
    .action(async (o: { withConnect?: boolean; kafkaSecurity?: StackKafkaSecurity }) => {
      const s = loadSettings();
      const started = Date.now();
      const parts = await stackUp(s, say, { withConnect: o.withConnect === true, kafkaSecurity: o.kafkaSecurity });
      say(`stack up in ${((Date.now() - started) / 1000).toFixed(1)}s`);
      process.stdout.write(`${formatStatus(parts)}\n`);
    });

  stack
    .command('down')
    .description('stop the Connect worker (if running), the broker and the registry cleanly (data is kept under the home directory)')
    .action(async () => {
      await stackDown(loadSettings(), say);
    });

  stack
    .command('status')
    .description('what is running, where, and how much memory it uses; exit code 1 when a part does not answer')
    .action(async () => {
      const s = loadSettings();
      const parts = await stackStatus(s);
      process.stdout.write(`${describeSettings(s).join('\n')}\n\n${formatStatus(parts)}\n`);
      const members = fleet(s);
      if (members.length) process.stdout.write(`event managers   ${members.map((m) => `${m.id} (pid ${m.pid}, ${m.memoryMb ?? '?'} MiB)`).join(', ')}\n`);
      if (parts.some((p) => !p.answering)) process.exitCode = 1;
    });

  stack
    .command('certs')
    .description('make a throwaway CA and a certificate signed by it for SIP over TLS on this machine (tests, local use; never production)')
    .option('--dir <dir>', 'where to write them (default <home>/certs)')
    .option('--name <names>', 'comma-separated DNS names and IP addresses the certificate is for', 'localhost,127.0.0.1,::1')
    .action(async (o: { dir?: string; name: string }) => {
      const s = loadSettings();
      const dir = path.resolve(o.dir ?? path.join(s.home, 'certs'));
      const names = o.name
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean);
      const { ca, cert } = await writeLocalCertificates(dir, names);
      process.stdout.write(
        [
          `# a CA and a certificate for ${names.join(', ')} in ${dir} (valid 30 days)`,
          `export PRESENCE_SIP_TLS_CERT_FILE=${cert.certFile}`,
          `export PRESENCE_SIP_TLS_KEY_FILE=${cert.keyFile}`,
          `export PRESENCE_NOTIFY_TLS_CA_FILE=${ca}`,
          `# optional, mutual TLS at the front end: export PRESENCE_SIP_TLS_CLIENT_CA_FILE=${ca}`,
          '',
        ].join('\n'),
      );
    });
}
