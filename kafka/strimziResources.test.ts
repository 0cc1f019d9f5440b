import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSettings, projectRoot } from '../config/settings.ts';
import { TOPICS, partitionsOf, topicConfig } from '../schemas/topology.ts';
import { ROLE_ACCESS, type RoleAccess } from '../schemas/roleAccess.ts';
import { EVENT_MANAGER_GROUP } from '../streams/event-manager/eventManager.ts';
import { memberIds } from './memberIdentity.ts';
import { resourceName, strimziTopics, strimziUsers } from './strimziResources.ts';

const base = loadSettings({});
const s = { ...base, topics: { prefix: 'Prod_Presence.', partitions: 48, replicationFactor: 3 } };

describe('Strimzi KafkaTopic resources', () => {
  it('declare every topic with the partitions, replication and configs topics apply would give it', () => {
    const res = strimziTopics(s, { cluster: 'kafka-a', namespace: 'telco' });
    expect(res).toHaveLength(TOPICS.length);
    for (const [i, t] of TOPICS.entries()) {
      const r = res[i]!;
      expect(r.spec).toEqual({ topicName: `Prod_Presence.${t.name}`, partitions: partitionsOf(t, 48), replicas: 3, config: topicConfig(t) });
      expect(r.metadata.labels['strimzi.io/cluster']).toBe('kafka-a');
      expect(r.metadata.namespace).toBe('telco');
      expect(r.metadata.name).toMatch(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/);
    }
    // Subscriber topics stay co-partitioned.
    expect(new Set(res.filter((_, i) => TOPICS[i]!.partitions === 'subscriber').map((r) => r.spec.partitions))).toEqual(new Set([48]));
  });

  it('names each resource validly and distinctly even when the topic name is not a valid object name', () => {
    expect(resourceName('Prod_Presence.signaling-events')).toBe('prod-presence.signaling-events');
    const names = strimziTopics(s, { cluster: 'c' }).map((r) => r.metadata.name);
    expect(new Set(names).size).toBe(names.length);
    expect(() => resourceName('___')).toThrow(/no valid Kubernetes object name/);
  });
});

describe('Strimzi KafkaUser resources: the ACLs each role needs', () => {
  const users = strimziUsers(s, { cluster: 'kafka-a', namespace: 'telco' });
  const KINDS = new Set(['topic', 'group', 'transactionalId', 'cluster']);
  const OPS = new Set(['Read', 'Write', 'Describe', 'AlterConfigs', 'IdempotentWrite']);

  it('have the shape the Strimzi user operator takes (v1beta2, simple authorization, known resources and operations)', () => {
    expect(users.map((u) => u.metadata.labels['app.kubernetes.io/component'])).toEqual(ROLE_ACCESS.map((r) => r.role));
    for (const u of users) {
      expect(u.apiVersion).toBe('kafka.strimzi.io/v1beta2');
      expect(u.kind).toBe('KafkaUser');
      expect(u.metadata.name).toMatch(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/);
      expect(u.metadata.name.length).toBeLessThanOrEqual(64); // Strimzi: the name is also a SCRAM user and a Secret name
      expect(u.metadata.labels['strimzi.io/cluster']).toBe('kafka-a');
      expect(u.metadata.namespace).toBe('telco');
      expect(u.spec.authentication.type).toBe('scram-sha-512');
      expect(u.spec.authorization.type).toBe('simple');
      expect(u.spec.authorization.acls.length).toBeGreaterThan(0);
      for (const a of u.spec.authorization.acls) {
        expect(KINDS.has(a.resource.type), JSON.stringify(a)).toBe(true);
        if (a.resource.type !== 'cluster') {
          expect(['literal', 'prefix']).toContain(a.resource.patternType);
          expect(a.resource.name.length).toBeGreaterThan(0);
        }
        expect(a.operations.length).toBeGreaterThan(0);
        for (const op of a.operations) expect(OPS.has(op), `${u.metadata.name}: ${op}`).toBe(true);
        expect(a.host).toBe('*');
      }
    }
    expect(new Set(users.map((u) => u.metadata.name)).size).toBe(users.length);
    expect(strimziUsers(s, { cluster: 'c', authentication: 'tls' })[0]!.spec.authentication.type).toBe('tls');
  });

  it('name the topics with the prefix, groups and transactional ids as the clients spell them', () => {
    const em = users.find((u) => u.metadata.labels['app.kubernetes.io/component'] === 'event-manager')!.spec.authorization.acls;
    const on = (type: string, name: string) => em.find((a) => a.resource.type === type && 'name' in a.resource && a.resource.name === name)?.operations;
    expect(on('topic', 'Prod_Presence.signaling-events')).toEqual(['Read', 'Describe']);
    expect(on('topic', 'Prod_Presence.current-presence')).toEqual(['Write', 'Describe']);
    // Its store changelog is written in its transactions and read back on restore.
    expect(on('topic', 'Prod_Presence.event-manager-presence-store-changelog')).toEqual(['Read', 'Write', 'Describe']);
    // The names the code builds: the group of startEventManager, the transactional id of memberIdentity.
    expect(on('group', `Prod_Presence.${EVENT_MANAGER_GROUP}`)).toEqual(['Read', 'Describe', 'AlterConfigs']);
    expect(
      memberIds('Prod_Presence.', 'event-manager', 'em-1').transactionalId.startsWith(
        (em.find((a) => a.resource.type === 'transactionalId')!.resource as { name: string }).name,
      ),
    ).toBe(true);
    expect(em.some((a) => a.resource.type === 'cluster' && a.operations.includes('IdempotentWrite'))).toBe(true);
    // A reader only gets no write, and no idempotent producer right.
    const locator = users.find((u) => u.metadata.labels['app.kubernetes.io/component'] === 'locator')!.spec.authorization.acls;
    expect(locator.flatMap((a) => a.operations)).not.toContain('Write');
    expect(locator.some((a) => a.resource.type === 'cluster')).toBe(false);
  });

  it("leave no role without a topic its code uses (a topic named in the role's sources is in its reads or writes)", () => {
    expect(rolesMissingTopics(ROLE_ACCESS)).toEqual({});
  });

  it('would catch an ACL that misses a topic', () => {
    const broken = ROLE_ACCESS.map((r) => (r.role === 'notify-sink' ? { ...r, writes: r.writes.filter((t) => t !== 'delivery-reports') } : r));
    expect(rolesMissingTopics(broken)).toEqual({ 'notify-sink': ['delivery-reports'] });
  });

  it('cover every topic of the topology: each is written by a role (or Kafka Connect) and read by one', () => {
    // Kafka Connect's connectors write these two with the Connect cluster's own user (its KafkaConnect resource).
    const byConnect = new Set(['directory-changes', 'group-member-changes']);
    const written = new Set(ROLE_ACCESS.flatMap((r) => r.writes));
    const read = new Set(ROLE_ACCESS.flatMap((r) => r.reads));
    for (const t of TOPICS) {
      if (byConnect.has(t.name)) continue;
      expect(written.has(t.name), `${t.name} written`).toBe(true);
    }
    // Dead letters are for operators (and the console); group-presence documents for the API.
    for (const t of TOPICS) if (!byConnect.has(t.name)) expect(read.has(t.name), `${t.name} read`).toBe(true);
  });
});

/** The sources each role runs (the code that would name its topics). OpenAPI documents (`openapi.ts`) name HTTP fields, not topics. */
const ROLE_SOURCES: Record<string, string[]> = {
  tap: ['taps'],
  'event-manager': ['streams/event-manager', 'front-end', 'coordinator/memberReportsReader.ts'],
  'sip-front': ['front-end', 'coordinator/memberReportsReader.ts'],
  'notify-sink': ['connectors/sinks/notify'],
  'group-presence': ['streams/group-presence'],
  'group-service': ['services/group-service'],
  'availability-service': ['services/availability-service'],
  'group-presence-api': ['connectors/sinks/group-presence'],
  locator: ['coordinator'],
  console: ['services/console'],
  'location-agent': ['connectors/location-agent', 'taps/network-query'],
  'event-deriver': ['streams/service-events'],
  'event-service': ['services/event-service'],
};

function sourceFiles(p: string): string[] {
  const full = path.join(projectRoot, p);
  if (!statSync(full).isDirectory()) return [full];
  return readdirSync(full).flatMap((n) =>
    n.endsWith('.test.ts') || n === 'openapi.ts'
      ? []
      : n.endsWith('.ts')
        ? [path.join(full, n)]
        : statSync(path.join(full, n)).isDirectory()
          ? sourceFiles(path.join(p, n))
          : [],
  );
}

/** For each role, topics named (as a string literal) in its sources that its ACLs do not cover. */
function rolesMissingTopics(roles: readonly RoleAccess[]): Record<string, string[]> {
  const names = TOPICS.map((t) => t.name as string);
  const out: Record<string, string[]> = {};
  for (const r of roles) {
    const sources = ROLE_SOURCES[r.role];
    if (!sources) throw new Error(`role ${r.role}: say which sources it runs in ROLE_SOURCES`);
    const text = sources
      .flatMap(sourceFiles)
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const allowed = new Set<string>([...r.reads, ...r.writes]);
    const missing = names.filter((n) => text.includes(`'${n}'`) && !allowed.has(n));
    if (missing.length) out[r.role] = missing;
  }
  return out;
}
