// Every Kafka client of ours against a broker whose only client listener is
// SASL_SSL (SCRAM, a throwaway CA), configured the way an operator does it:
// PRESENCE_KAFKA_* environment variables, nothing passed in code. Covers the
// kafkajs admin (topics apply, group lag), node-rdkafka (a producer, a
// read_committed reader, an event manager member's transactional processor),
// our own wire client (KIP-848 describe, static takeover, group configs) and a
// Java client configured as the Kafka Connect worker is; then a wrong password
// refused quickly and by name, and an untrusted CA. The broker is private
// (ports 19510-19512): the shared stack stays plaintext.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings, type Settings } from '../../config/settings.ts';
import { applyTopology } from '../../kafka/applyTopology.ts';
import { describeConsumerGroup } from '../../kafka/consumerGroupAdmin.ts';
import { groupLag } from '../../kafka/groupLag.ts';
import { createTopicsAndWait, withAdmin } from '../../kafka/kafkaAdmin.ts';
import { javaClientSecurity, javaProperties, useKafkaSecurity } from '../../kafka/kafkaSecurity.ts';
import { kafkaClasspath } from '../../infra/local/artifacts.ts';
import { findJava } from '../../infra/local/javaRuntime.ts';
import { WireAuthenticationError } from '../../kafka/kafkaWire.ts';
import { KafkaUnavailableError, RecordProducer } from '../../kafka/recordProducer.ts';
import { topicName } from '../../schemas/topology.ts';
import { EVENT_MANAGER_GROUP } from '../../streams/event-manager/eventManager.ts';
import { cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';
import { startMemberProcess, type MemberProcess } from '../support/memberProcess.ts';
import { privateSaslSslBroker } from '../support/privateBroker.ts';
import { readTopic } from '../support/topicReader.ts';
import { eventually, sleep } from '../support/wait.ts';

const run = promisify(execFile);
const port = 19_510;
const users = [
  { mechanism: 'SCRAM-SHA-512', name: 'presence', password: 'sasl-ssl-test-512' },
  { mechanism: 'SCRAM-SHA-256', name: 'presence256', password: 'sasl-ssl-test-256' },
  { mechanism: 'PLAIN', name: 'presenceplain', password: 'sasl-ssl-test-plain' },
] as const;
const broker = privateSaslSslBroker('sasl-ssl', port, { users, mutualTls: true });

/** What an operator sets; member processes inherit it through process.env. */
const securityEnv: Record<string, string> = {
  PRESENCE_KAFKA_BROKERS: `127.0.0.1:${port}`,
  PRESENCE_KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
  PRESENCE_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
  PRESENCE_KAFKA_USERNAME: users[0].name,
  PRESENCE_KAFKA_PASSWORD: users[0].password,
  PRESENCE_KAFKA_SSL_CA_FILE: broker.caFile,
};
const saved = new Map(Object.keys(securityEnv).map((k) => [k, process.env[k]]));

/** Sets (or with undefined, removes) environment variables and makes the next client read them again. */
function setEnv(vars: Record<string, string | undefined>): void {
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  useKafkaSecurity(undefined);
}

let s: Settings;
const members: MemberProcess[] = [];

beforeAll(async () => {
  setEnv(securityEnv);
  s = isolatedSettings('sasl-ssl', 2);
  await broker.start();
});

afterAll(async () => {
  for (const m of members) await m.stop('SIGKILL').catch(() => {});
  if (s) await cleanupIsolated(s).catch(() => {});
  setEnv(Object.fromEntries(saved));
  await broker.remove();
});

describe('a SASL_SSL (SCRAM) broker, configured through the environment', () => {
  it('reads the security settings as an operator gives them', () => {
    const k = loadSettings().kafka;
    expect(k.brokers).toBe(`127.0.0.1:${port}`);
    expect(k.security).toMatchObject({ protocol: 'SASL_SSL', saslMechanism: 'SCRAM-SHA-512', username: 'presence', caFile: broker.caFile });
  });

  it('applies the topology (topics apply) over SASL_SSL', async () => {
    const { topics } = await applyTopology(s);
    expect(topics.length).toBeGreaterThan(10);
    const listed = await withAdmin(s.kafka.brokers, (a) => a.listTopics());
    expect(listed).toContain(topicName(s.topics.prefix, 'signaling-events'));
  });

  it('sends with the record producer, reads read_committed, and reports a group’s lag', async () => {
    const topic = `${s.topics.prefix}probe`;
    await withAdmin(s.kafka.brokers, (a) => createTopicsAndWait(a, [{ topic, numPartitions: 1 }]));
    const producer = new RecordProducer(s.kafka.brokers, 'it-sasl-producer', 15_000);
    await producer.connect();
    try {
      for (let i = 0; i < 3; i++) expect((await producer.send(topic, `k${i}`, Buffer.from(`v${i}`))).offset).toBe(i);
    } finally {
      await producer.close();
    }
    const read = await readTopic({ brokers: s.kafka.brokers, topic, partitions: 1, count: 3, timeoutMs: 30_000 });
    expect(read.map((m) => m.value?.toString())).toEqual(['v0', 'v1', 'v2']);

    // A group that has read one record: two behind.
    const groupId = `${s.topics.prefix}lag-probe`;
    await withAdmin(s.kafka.brokers, (a) => a.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '1' }] }));
    expect(await groupLag(s.kafka.brokers, groupId, [topic])).toEqual([{ topic, partition: 0, committed: 1, end: 3, lag: 2 }]);
  });

  it('runs an event manager member (transactions, KIP-848) and takes its static instance over after kill -9 through the wire client', async () => {
    const groupId = `${s.topics.prefix}${EVENT_MANAGER_GROUP}`;
    const start = () => startMemberProcess(s, 'em-sasl', ['event-manager', '--member-id', 'em-sasl', '--stats-interval', '60'], /running against/);
    members.push(await start());
    const held = await eventually(
      'em-sasl holding every event manager partition',
      async () => {
        const g = await describeConsumerGroup(s.kafka.brokers, groupId);
        const m = g?.members.find((x) => x.instanceId === 'em-sasl');
        return m && m.memberEpoch === g?.groupEpoch && [...m.assignment.values()].some((ps) => ps.length > 0) ? m : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    members[0]!.signal('SIGKILL');
    await sleep(2_000);
    const restartedAt = Date.now();
    members.push(await start());
    // The takeover is the wire client's describe and leave-as (epoch -2) over SASL_SSL.
    await members[1]!.waitFor(/releasing the instance from its previous process/, 60_000, restartedAt);
    const after = await eventually(
      'em-sasl holding its partitions again under a new member id',
      async () => {
        const g = await describeConsumerGroup(s.kafka.brokers, groupId);
        const m = g?.members.find((x) => x.instanceId === 'em-sasl');
        return m && m.memberId !== held.memberId && m.memberEpoch === g?.groupEpoch ? m : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect([...after.assignment].sort()).toEqual([...held.assignment].sort());
    expect(members[1]!.exited).toBe(false);
  });

  it('gives Java clients (the Kafka Connect worker’s properties) working SASL_SSL settings', async () => {
    // The worker's file is javaProperties(javaClientSecurity()); a Java admin client loading the same lines must list our topics.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'presence-java-client-'));
    try {
      const props = path.join(dir, 'client.properties');
      writeFileSync(props, `bootstrap.servers=${s.kafka.brokers}\n${javaProperties(javaClientSecurity())}\n`, { mode: 0o600 });
      const source = path.join(dir, 'ListTopics.java');
      writeFileSync(
        source,
        `import java.io.FileReader; import java.util.Properties; import org.apache.kafka.clients.admin.Admin;
public class ListTopics { public static void main(String[] a) throws Exception {
  Properties p = new Properties(); try (FileReader r = new FileReader(a[0])) { p.load(r); }
  p.put("request.timeout.ms", "15000"); p.put("default.api.timeout.ms", "30000");
  try (Admin admin = Admin.create(p)) { for (String t : admin.listTopics().names().get()) System.out.println(t); } } }`,
      );
      const java = findJava(17, undefined, 'the Java client check');
      const cp = await kafkaClasspath(s.home, s.kafka.version, () => {});
      const { stdout } = await run(java, ['-cp', `${cp}/*`, source, props], { timeout: 90_000 });
      expect(stdout.split('\n')).toContain(`${s.topics.prefix}probe`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('authenticates a SCRAM-SHA-256 user with every client kind', async () => {
    setEnv({ PRESENCE_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256', PRESENCE_KAFKA_USERNAME: users[1].name, PRESENCE_KAFKA_PASSWORD: users[1].password });
    try {
      expect(await withAdmin(s.kafka.brokers, (a) => a.listTopics())).toContain(`${s.topics.prefix}probe`);
      expect((await describeConsumerGroup(s.kafka.brokers, `${s.topics.prefix}${EVENT_MANAGER_GROUP}`))?.members.length).toBeGreaterThan(0);
      const producer = new RecordProducer(s.kafka.brokers, 'it-sasl-256', 15_000);
      await producer.connect();
      await producer.close();
    } finally {
      setEnv(securityEnv);
    }
  });

  it('authenticates a SASL PLAIN user (over TLS) with every client kind, the wire client included', async () => {
    setEnv({ PRESENCE_KAFKA_SASL_MECHANISM: 'PLAIN', PRESENCE_KAFKA_USERNAME: users[2].name, PRESENCE_KAFKA_PASSWORD: users[2].password });
    try {
      expect(await withAdmin(s.kafka.brokers, (a) => a.listTopics())).toContain(`${s.topics.prefix}probe`);
      expect((await describeConsumerGroup(s.kafka.brokers, `${s.topics.prefix}${EVENT_MANAGER_GROUP}`))?.members.length).toBeGreaterThan(0);
      const producer = new RecordProducer(s.kafka.brokers, 'it-sasl-plain', 15_000);
      await producer.connect();
      await producer.close();
      setEnv({ PRESENCE_KAFKA_PASSWORD: 'not-the-password' });
      await expect(describeConsumerGroup(s.kafka.brokers, 'any')).rejects.toBeInstanceOf(WireAuthenticationError);
    } finally {
      setEnv(securityEnv);
    }
  });

  it('refuses a wrong password at once, saying it was the authentication, from every client kind', async () => {
    setEnv({ PRESENCE_KAFKA_PASSWORD: 'not-the-password' });
    try {
      // Refused, not timed out: each well inside its client's connect timeout (kafkajs 3 s × 3 tries, librdkafka 15 s).
      const timed = async <T>(what: string, p: Promise<T>): Promise<T> => {
        const t0 = Date.now();
        const out = await p;
        expect(Date.now() - t0, what).toBeLessThan(8_000);
        return out;
      };
      const admin = await timed(
        'kafkajs admin',
        withAdmin(s.kafka.brokers, (a) => a.listTopics()).catch((e: unknown) => e),
      );
      expect((admin as Error).message).toMatch(/SASL SCRAM SHA512 authentication failed/);
      const wire = await timed(
        'wire client',
        describeConsumerGroup(s.kafka.brokers, 'any').catch((e: unknown) => e),
      );
      expect(wire).toBeInstanceOf(WireAuthenticationError);
      expect((wire as Error).message).toMatch(/refused SASL SCRAM-SHA-512 authentication of user presence: .*invalid credentials/);
      const producer = new RecordProducer(s.kafka.brokers, 'it-sasl-wrong', 15_000);
      const rd = await timed(
        'node-rdkafka producer',
        producer.connect().catch((e: unknown) => e),
      );
      await timed('closing the refused producer', producer.close());
      expect(rd).toBeInstanceOf(KafkaUnavailableError);
      expect((rd as Error).message).toMatch(/SASL authentication error: .*invalid credentials/);
    } finally {
      setEnv(securityEnv);
    }
  });

  it('connects every client kind over mutual TLS (protocol SSL, a client certificate, no SASL) and refuses one without a certificate', async () => {
    const mtls = `127.0.0.1:${port + 3}`;
    const certificate = { PRESENCE_KAFKA_SSL_CERT_FILE: broker.clientCertFile, PRESENCE_KAFKA_SSL_KEY_FILE: broker.clientKeyFile };
    setEnv({
      PRESENCE_KAFKA_BROKERS: mtls,
      PRESENCE_KAFKA_SECURITY_PROTOCOL: 'SSL',
      PRESENCE_KAFKA_USERNAME: undefined,
      PRESENCE_KAFKA_PASSWORD: undefined,
      ...certificate,
    });
    try {
      expect(loadSettings().kafka.security).toMatchObject({ protocol: 'SSL', certFile: broker.clientCertFile, keyFile: broker.clientKeyFile });
      expect(await withAdmin(mtls, (a) => a.listTopics())).toContain(`${s.topics.prefix}probe`);
      expect((await describeConsumerGroup(mtls, `${s.topics.prefix}${EVENT_MANAGER_GROUP}`))?.members.length).toBeGreaterThan(0);
      const topic = `${s.topics.prefix}probe`;
      const producer = new RecordProducer(mtls, 'it-mtls', 15_000);
      await producer.connect();
      try {
        expect((await producer.send(topic, 'k-mtls', Buffer.from('over mutual TLS'))).offset).toBe(3);
      } finally {
        await producer.close();
      }
      const read = await readTopic({ brokers: mtls, topic, partitions: 1, count: 4, timeoutMs: 30_000 });
      expect(read.at(-1)?.value?.toString()).toBe('over mutual TLS');

      // The listener requires the certificate: without one the TLS handshake is refused.
      setEnv({ PRESENCE_KAFKA_SSL_CERT_FILE: undefined, PRESENCE_KAFKA_SSL_KEY_FILE: undefined });
      await expect(describeConsumerGroup(mtls, 'any')).rejects.toThrow(/certificate|handshake|alert|socket|closed|ECONNRESET/i);
    } finally {
      setEnv({ ...securityEnv, PRESENCE_KAFKA_SSL_CERT_FILE: undefined, PRESENCE_KAFKA_SSL_KEY_FILE: undefined });
    }
  });

  it('refuses a broker certificate from a CA it was not told to trust', async () => {
    setEnv({ PRESENCE_KAFKA_SSL_CA_FILE: undefined });
    try {
      await expect(describeConsumerGroup(s.kafka.brokers, 'any')).rejects.toThrow(/certificate/);
    } finally {
      setEnv(securityEnv);
    }
  });
});
