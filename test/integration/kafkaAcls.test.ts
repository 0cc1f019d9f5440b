// The ACLs each role is given (schemas/roleAccess.ts, rendered as Strimzi KafkaUsers by
// `presence topics render --format strimzi`) tried against a broker that enforces them
// (issue 13: "a Kafka authorizer (ACLs) tried against the user's rights"). A private
// SASL_SSL broker with KRaft's StandardAuthorizer and no access without an ACL; an admin
// applies the topology and the rendered ACLs; then each role runs as its own SCRAM user,
// as the operator's Kubernetes deployment does:
//  - the tap (`presence replay`) publishes signaling events in transactions;
//  - an event manager (`presence run event-manager`) joins its group (KIP-848), restores,
//    processes them exactly once and writes current-presence;
//  - every other role (`presence run <role>`) becomes ready (its group joined, its readers
//    and writers connected) with no authorization failure in its log;
//  - the SIP front end (`presence run sip-front`) records a SUBSCRIBE and PUBLISHes, reading
//    the event manager's answers and the group URIs, and the notify sink
//    (`presence run notify-sink`) sends the watcher its NOTIFYs;
// and a role is refused what its ACLs leave out (the tap writing current-presence).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { AclEntry } from 'kafkajs';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Settings } from '../../config/settings.ts';
import { applyTopology } from '../../kafka/applyTopology.ts';
import { withAdmin } from '../../kafka/kafkaAdmin.ts';
import { useKafkaSecurity } from '../../kafka/kafkaSecurity.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { strimziUsers, type KafkaUserAcl } from '../../kafka/strimziResources.ts';
import { newToken } from '../../protocols/http/bearerTokens.ts';
import { ROLE_ACCESS } from '../../schemas/roleAccess.ts';
import { topicName } from '../../schemas/topology.ts';
import { cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';
import { startMemberProcess, type MemberProcess } from '../support/memberProcess.ts';
import { privateSaslSslBroker } from '../support/privateBroker.ts';
import { readTopic } from '../support/topicReader.ts';
import { PROFESSIONAL } from '../support/availabilityProfiles.ts';
import { StrictWatcher } from '../support/strictWatcher.ts';
import { adminUrlIn } from '../support/adminScrape.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { eventually } from '../support/wait.ts';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '../..');
const port = 19_530;
const ROLES = [
  'tap',
  'event-manager',
  'sip-front',
  'notify-sink',
  'event-deriver',
  'group-presence',
  'location-agent',
  'group-service',
  'availability-service',
  'event-service',
  'locator',
  'group-presence-api',
  'console',
] as const;
const isolated = isolatedSettings('acls', 2);
const s: Settings = { ...isolated, kafka: { ...isolated.kafka, brokers: `127.0.0.1:${port}` } };
const roles = ROLE_ACCESS.filter((r) => (ROLES as readonly string[]).includes(r.role));
const kafkaUsers = strimziUsers(s, { cluster: 'test', roles });
const admin = { mechanism: 'SCRAM-SHA-512', name: 'admin', password: 'acl-admin' } as const;
const users = [admin, ...kafkaUsers.map((u) => ({ mechanism: 'SCRAM-SHA-512' as const, name: u.metadata.name, password: `pw-${u.metadata.name}` }))];
/** The SCRAM user a role runs as (its rendered KafkaUser): `users` holds the admin, then one per role in `roles` order. */
const credentialsOf = (role: (typeof ROLES)[number]) => users[1 + roles.findIndex((r) => r.role === role)]!;
const broker = privateSaslSslBroker('acls', port, {
  users,
  properties: {
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    // The controller and inter-broker listeners are plaintext (ANONYMOUS) inside the broker's own host.
    'super.users': 'User:admin;User:ANONYMOUS',
    'allow.everyone.if.no.acl.found': 'false',
  },
});
const members: MemberProcess[] = [];
const tmp = mkdtempSync(path.join(os.tmpdir(), 'presence-acls-'));

/** The environment a role's process runs with: its own SCRAM user. */
function envOf(user: { name: string; password: string }): Record<string, string> {
  return {
    PRESENCE_KAFKA_BROKERS: `127.0.0.1:${port}`,
    PRESENCE_KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
    PRESENCE_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
    PRESENCE_KAFKA_USERNAME: user.name,
    PRESENCE_KAFKA_PASSWORD: user.password,
    PRESENCE_KAFKA_SSL_CA_FILE: broker.caFile,
  };
}

/**
 * `presence run <role>` for an HTTP service as its own SCRAM user, with bearer tokens (`tokenLines`), its
 * API on a free port and its tables in a schema of the test database of its own; `urlLine` finds the API's
 * base URL in its log. `body` tries it; the process is stopped and the schema dropped after, pass or fail.
 */
async function withHttpRoleUnderAcls(
  role: (typeof ROLES)[number],
  urlLine: RegExp,
  tokenLines: string[],
  body: (api: { url: string; text: () => string }) => Promise<void>,
): Promise<void> {
  const tokensFile = path.join(tmp, `${role}-tokens`);
  writeFileSync(tokensFile, `${tokenLines.join('\n')}\n`);
  const schema = `it_acls_${role.replace(/-/g, '_')}_${process.pid}`;
  const m = await startMemberProcess(s, `${role}-write`, [role, '--port', '0', '--schema', schema], urlLine, {
    ...envOf(credentialsOf(role)),
    PRESENCE_HTTP_TOKENS_FILE: tokensFile,
    PRESENCE_DATABASE_URL: testDatabaseUrl,
  });
  members.push(m);
  const text = () => m.lines.map((l) => l.text).join('\n');
  try {
    await body({ url: urlLine.exec(text())![1]!, text });
  } finally {
    await m.stop('SIGTERM').catch(() => m.stop('SIGKILL'));
    await dropSchema(schema);
  }
}

/** `count` records of a topic, read as the admin (whoever wrote them). */
const readAsAdmin = (topic: string, partitions: number, count: number) =>
  readTopic({ brokers: s.kafka.brokers, topic: topicName(s.topics.prefix, topic), partitions, count, timeoutMs: 30_000, settleMs: 500 });

/** This process's clients act as `user` from now on. */
function actAs(user: { name: string; password: string }): void {
  Object.assign(process.env, envOf(user));
  useKafkaSecurity(undefined);
}

/** A rendered KafkaUser ACL as kafkajs createAcls entries (one per operation). */
function aclEntries(principal: string, a: KafkaUserAcl): AclEntry[] {
  const resource =
    a.resource.type === 'cluster'
      ? { resourceType: AclResourceTypes.CLUSTER, resourceName: 'kafka-cluster', resourcePatternType: ResourcePatternTypes.LITERAL }
      : {
          resourceType: { topic: AclResourceTypes.TOPIC, group: AclResourceTypes.GROUP, transactionalId: AclResourceTypes.TRANSACTIONAL_ID }[a.resource.type],
          resourceName: a.resource.name,
          resourcePatternType: a.resource.patternType === 'prefix' ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
        };
  const operation = {
    Read: AclOperationTypes.READ,
    Write: AclOperationTypes.WRITE,
    Describe: AclOperationTypes.DESCRIBE,
    AlterConfigs: AclOperationTypes.ALTER_CONFIGS,
    IdempotentWrite: AclOperationTypes.IDEMPOTENT_WRITE,
  };
  return a.operations.map((op) => ({ ...resource, principal, host: '*', operation: operation[op], permissionType: AclPermissionTypes.ALLOW }));
}

beforeAll(async () => {
  // Before start(): the broker counts as up once it answers this process's (admin's) client.
  actAs(admin);
  await broker.start();
  await applyTopology(s);
  const acl = kafkaUsers.flatMap((u) => u.spec.authorization.acls.flatMap((a) => aclEntries(`User:${u.metadata.name}`, a)));
  await withAdmin(s.kafka.brokers, (a) => a.createAcls({ acl }));
}, 180_000);

afterAll(async () => {
  for (const m of members) await m.stop('SIGKILL').catch(() => {});
  await cleanupIsolated(s).catch(() => {});
  await broker.remove();
  rmSync(tmp, { recursive: true, force: true });
  for (const k of Object.keys(envOf(admin))) delete process.env[k];
  useKafkaSecurity(undefined);
}, 60_000);

describe('each role under an authorizer, with only its rendered ACLs', () => {
  it('the tap publishes, the event manager processes exactly once, and the tap is refused what is not its to write', async () => {
    const env = { ...process.env, PRESENCE_TOPIC_PREFIX: s.topics.prefix, PRESENCE_PARTITIONS: String(s.topics.partitions) };
    const capture = path.join(tmp, 'generated.pcap');
    await run(process.execPath, [path.join(repoRoot, 'bin/presence.mjs'), 'generate', '--subscribers', '40', '--duration', '600', '--out', capture], { env });

    const replayed = await run(process.execPath, [path.join(repoRoot, 'bin/presence.mjs'), 'replay', capture, '--no-directory', '--unknown', 'keep'], {
      env: { ...env, ...envOf(credentialsOf('tap')) },
      timeout: 120_000,
    });
    const published = Number(/published (\d+) signaling events/.exec(replayed.stderr)?.[1]);
    expect(published, replayed.stderr).toBeGreaterThan(40);

    members.push(
      await startMemberProcess(
        s,
        'em-acls',
        ['event-manager', '--member-id', 'em-acls', '--stats-interval', '60'],
        /running against/,
        envOf(credentialsOf('event-manager')),
      ),
    );
    // Read as the admin: the member's committed presence changes.
    const presence = await readTopic({
      brokers: s.kafka.brokers,
      topic: topicName(s.topics.prefix, 'current-presence'),
      partitions: 2,
      count: 20,
      timeoutMs: 90_000,
    });
    expect(presence.length).toBeGreaterThanOrEqual(10);
    const text = members[0]!.lines.map((l) => l.text).join('\n');
    expect(text).not.toMatch(/authori[sz]ation failed/i);

    // The tap's user: current-presence is not its to write.
    actAs(credentialsOf('tap'));
    const producer = new RecordProducer(s.kafka.brokers, 'acl-probe', 15_000);
    try {
      await producer.connect();
      await expect(producer.send(topicName(s.topics.prefix, 'current-presence'), 'k', Buffer.from('forged'))).rejects.toThrow(/authori[sz]ation/i);
    } finally {
      await producer.close().catch(() => {});
      actAs(admin);
    }
  }, 300_000);

  it('the SIP front end and the notify sink: a PUBLISH answered through the event manager reaches a watcher as a NOTIFY', async () => {
    const fe = await startMemberProcess(
      s,
      'fe-acls',
      ['sip-front', '--port', '0', '--no-directory', '--stats-interval', '60'],
      /listening on 127\.0\.0\.1:\d+/,
      envOf(credentialsOf('sip-front')),
    );
    members.push(fe);
    members.push(
      await startMemberProcess(
        s,
        'sink-acls',
        ['notify-sink', '--member-id', 'sink-acls', '--stats-interval', '60'],
        /assigned /,
        envOf(credentialsOf('notify-sink')),
      ),
    );
    const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(fe.lines.map((l) => l.text).join('\n'))![1]);
    const ua = await StrictWatcher.open();
    try {
      let n = 0;
      const request = (method: string, headers: string[], body = '') => {
        const branch = `z9hG4bKacl${++n}`;
        const uri = 'sip:+351910000091@ims.example.net';
        ua.send(
          `${method} ${uri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${ua.port};branch=${branch}\r\nMax-Forwards: 70\r\n` +
            `From: <${method === 'PUBLISH' ? uri : 'sip:watcher@example.com'}>;tag=t${n}\r\nTo: <${uri}>\r\nCall-ID: acl-${n}\r\nCSeq: 1 ${method}\r\n` +
            `${headers.map((h) => `${h}\r\n`).join('')}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
          port,
        );
        return eventually(
          `the answer to ${method} ${n}`,
          () => ua.responses.find((r) => (r.status ?? 0) >= 200 && (r.headers.get('via') ?? '').includes(branch)),
          {
            timeoutMs: 20_000,
            intervalMs: 50,
          },
        );
      };
      const pidf = (note: string) =>
        `<?xml version="1.0" encoding="UTF-8"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:+351910000091@ims.example.net"><tuple id="t1"><status><basic>open</basic></status><note>${note}</note></tuple></presence>`;
      expect((await request('SUBSCRIBE', ['Event: presence', 'Expires: 600', `Contact: <sip:watcher@127.0.0.1:${ua.port}>`])).status).toBe(200);
      const pub = await request('PUBLISH', ['Event: presence', 'Expires: 600', 'Content-Type: application/pidf+xml'], pidf('under ACLs'));
      expect(pub.status).toBe(200);
      // A conditional PUBLISH is answered by the owning event manager, read back from publish-responses.
      const modify = await request(
        'PUBLISH',
        ['Event: presence', 'Expires: 600', 'Content-Type: application/pidf+xml', `SIP-If-Match: ${pub.headers.get('sip-etag')!}`],
        pidf('modified'),
      );
      expect(modify.status).toBe(200);
      await eventually('a NOTIFY carrying the modified note', () => ua.received.some((r) => r.body.includes('modified')) || undefined, {
        timeoutMs: 30_000,
        intervalMs: 100,
      });
      for (const m of members) expect(m.lines.map((l) => l.text).join('\n'), m.id).not.toMatch(/authori[sz]ation failed/i);
    } finally {
      await ua.close();
    }
  }, 180_000);

  it('run group-service: a group created over its HTTP API reaches the groups topic through its outbox relay, under its ACLs', async () => {
    const { token, line } = newToken('acl-operator', ['groups:manage', 'groups:read']);
    await withHttpRoleUnderAcls('group-service', /group service on (http:\/\/\S+)\/groups/, [line], async ({ url, text }) => {
      const post = await fetch(`${url}/groups`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ id: 'acl-group', uri: 'sip:acl-group@groups.example.net', name: 'Under ACLs' }),
      });
      expect(post.status).toBe(201);
      const put = await fetch(`${url}/groups/acl-group/members/${encodeURIComponent('tel:+351910000077')}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(put.status).toBe(201);
      // Read as the admin: the relay wrote both changes with the group service's own user.
      const groups = await readAsAdmin('groups', 6, 2);
      expect(groups.map((r) => r.key?.toString())).toEqual(['acl-group', 'acl-group']);
      expect(text()).not.toMatch(/authori[sz]ation failed|relay failures [1-9]/i);
    });
  }, 120_000);

  it('run availability-service: a profile change over its HTTP API reaches availability-profiles through its outbox relay, under its ACLs', async () => {
    const { token, line } = newToken('acl-operator', ['profiles:manage']);
    await withHttpRoleUnderAcls('availability-service', /availability service on (http:\/\/\S+?)\/subscribers/, [line], async ({ url, text }) => {
      const key = 'msisdn:+351910000078';
      const put = await fetch(`${url}/subscribers/${encodeURIComponent(key)}/profiles`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(PROFESSIONAL),
      });
      expect(put.status).toBe(200);
      // Read as the admin: the relay wrote the change with the availability service's own user.
      const changes = await readAsAdmin('availability-profiles', 2, 1);
      expect(changes.map((r) => r.key?.toString())).toEqual([key]);
      expect(text()).not.toMatch(/authori[sz]ation failed|relay failures [1-9]/i);
    });
  }, 120_000);

  it('run event-service: an event POSTed by a registered publisher is written to service-events and read back into its event log, under its ACLs', async () => {
    const operator = newToken('acl-operator', ['events:register', 'events:read']);
    const billing = newToken('billing', ['events:publish']);
    await withHttpRoleUnderAcls('event-service', /event service on (http:\/\/\S+?)\/ /, [operator.line, billing.line], async ({ url, text }) => {
      const call = (method: string, route: string, token: string, body?: unknown) =>
        fetch(`${url}${route}`, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      expect((await call('PUT', '/services/billing', operator.token, { publishes: ['usage.gauge'], delivery: { mode: 'pull' } })).status).toBe(201);
      const subject = '+351910000079';
      const event = { type: 'usage.gauge', subject, eventId: 'acl-1', payload: { gauge: 'voice-minutes', used: 7, limit: 100, unit: 'min' } };
      expect((await call('POST', '/events', billing.token, event)).status).toBe(202);
      // Written with the event service's own user (read here as the admin)…
      expect(await readAsAdmin('service-events', 2, 1)).toHaveLength(1);
      // …and read back by its ingest (its consumer group, its user) into the event log.
      await eventually(
        'the event in the event log',
        async () => {
          const res = await call('GET', `/event-log?subscriber=${encodeURIComponent(subject)}`, operator.token);
          const body = (await res.json()) as { events?: Array<{ type: string }> };
          return body.events?.some((e) => e.type === 'usage.gauge') || undefined;
        },
        { timeoutMs: 30_000, intervalMs: 300 },
      );
      expect(text()).not.toMatch(/authori[sz]ation failed/i);
    });
  }, 120_000);

  it.each([
    ['event-deriver', []],
    ['group-presence', []],
    ['location-agent', ['--mlp-url', 'http://127.0.0.1:9/mlp']],
    ['group-service', ['--port', '0']],
    ['availability-service', ['--port', '0']],
    ['event-service', ['--port', '0']],
    ['locator', ['--port', '0']],
    ['group-presence-api', ['--port', '0']],
    ['console', ['--port', '0']],
  ] as const)(
    'run %s: ready under its ACLs, no authorization failure',
    async (role, args) => {
      const m = await startMemberProcess(s, `${role}-acls`, [role, ...args, '--admin-port', '0'], /admin on http/, envOf(credentialsOf(role)));
      members.push(m);
      const admin = adminUrlIn(m.lines.map((l) => l.text).join('\n'))!;
      await eventually(
        () =>
          `${role} /readyz 200 (its log: ${m.lines
            .slice(-5)
            .map((l) => l.text)
            .join(' | ')})`,
        async () => (await fetch(`${admin}/readyz`).catch(() => undefined))?.status === 200 || undefined,
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      await new Promise((r) => setTimeout(r, 2000));
      expect(m.lines.map((l) => l.text).join('\n')).not.toMatch(/authori[sz]ation failed/i);
      await m.stop('SIGTERM').catch(() => m.stop('SIGKILL'));
    },
    120_000,
  );
});
