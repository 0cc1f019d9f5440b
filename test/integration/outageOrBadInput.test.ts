// Outages are not bad input, and bad input is not an outage (issue 12), in the
// event manager on the real broker, registry and database:
// - a SUBSCRIBE whose watcher URI carries a NUL (written to the topic directly,
//   past the SIP edge) makes PostgreSQL refuse the rules query (SQLSTATE 22021):
//   it is dead-lettered with that reason, and the other presentity in the same
//   batch still gets its NOTIFY — it is not retried forever as an outage, nor read
//   again by the member restarted after it;
// - the registry unreachable while a record needs it: no dead letter, the record
//   is processed once the registry answers again;
// - the database unreachable: the batch is retried, nothing is dead-lettered;
// - the group presence processor, registry unreachable: the same as the event manager;
// - the NOTIFY sink, registry unreachable: it waits, and delivers once it answers;
// - the group presence table sink: a record the database refuses (NUL) is dead-lettered,
//   the rest of its batch stored — the batch is not retried forever.
// Outages are made with a TCP proxy in front of the shared service (cut, restored).
import { afterAll, describe, expect, it } from 'vitest';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import type { Settings } from '../../config/settings.ts';
import type { DeadLetter, GroupPresence, Subscription } from '../../schemas/generated/records.ts';
import { subscriptionRecord } from '../support/subscriptionRecords.ts';
import { avroType, loadSchemas } from '../../schemas/avroSchemas.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { valueSubject } from '../../schemas/topology.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { startGroupPresence } from '../../streams/group-presence/groupPresenceService.ts';
import { startNotifySink } from '../../connectors/sinks/notify/notifySink.ts';
import { GroupPresenceSink } from '../../connectors/sinks/group-presence/groupPresenceSink.ts';
import { GroupPresenceTable } from '../../connectors/sinks/group-presence/groupPresenceTable.ts';
import { group, member } from '../support/groupRecords.ts';
import { notifyRecord } from '../support/notifyRecords.ts';
import { openSipUdpClient } from '../support/sipUdpClient.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { behindRegistryProxy, startTcpProxy } from '../support/tcpProxy.ts';
import { readTopic } from '../support/topicReader.ts';
import { eventually, sleep } from '../support/wait.ts';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

function subscribe(presentity: string, watcherUri: string, callId: string): Subscription {
  return subscriptionRecord(presentity, callId, { watcherUri });
}

interface Rig {
  s: Settings;
  serde: RecordSerde;
  producer: RecordProducer;
  topic: (n: Parameters<typeof topicName>[1]) => string;
}

async function rig(name: string): Promise<Rig> {
  const base = isolatedSettings(name, 1);
  const s = { ...base, database: { ...base.database, url: testDatabaseUrl } };
  await applyIsolated(s);
  const serde = new RecordSerde(s.registry.url, s.topics.prefix);
  await serde.loadIds();
  const producer = new RecordProducer(s.kafka.brokers, `it-${name}`, 15_000);
  await producer.connect();
  cleanups.push(async () => {
    await producer.close();
    await cleanupIsolated(s);
  });
  return { s, serde, producer, topic: (n) => topicName(s.topics.prefix, n) };
}

/** `record` written with a newer (compatible) schema of `topic`'s subject: decoding it needs the registry. */
async function evolvedRecord(r: Rig, topic: 'subscriptions' | 'groups' | 'notify-requests', schema: string, record: object): Promise<Buffer> {
  const json = loadSchemas().get(schema) as unknown as { fields: unknown[] };
  const evolved = { ...json, fields: [...json.fields, { name: 'note', type: ['null', 'string'], default: null }] };
  const { id } = await r.serde.registry.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(evolved) },
    { subject: valueSubject(r.s.topics.prefix, topic) },
  );
  expect(id).not.toBe(r.serde.schemaIdOf(topic));
  const header = Buffer.alloc(5);
  header.writeUInt32BE(id, 1);
  return Buffer.concat([header, avroType(evolved as never).toBuffer({ ...record, note: 'v2' })]);
}

async function started(s: Settings, memberId: string, rulesSchema: string): Promise<EventManager> {
  const em = await startEventManager(s, { memberId, rulesSchema, protocol: 'classic' });
  cleanups.push(async () => {
    await em.stop();
    await dropSchema(rulesSchema);
  });
  await eventually('partition 0 restored', () => em.processor.ctx.partitions().length === 1, { timeoutMs: 60_000, intervalMs: 100 });
  return em;
}

describe('event manager: outage or bad input', () => {
  it('dead-letters a SUBSCRIBE the database refuses as invalid data (NUL) with the reason; the rest of the batch gets its NOTIFYs', async () => {
    const { s, serde, producer, topic } = await rig('badinput-nul');
    const bad = 'msisdn:+351910000071';
    const good = 'msisdn:+351910000072';
    // Both in the input before the member starts: they arrive in one batch.
    await producer.send(topic('subscriptions'), bad, serde.encode('subscriptions', subscribe(bad, 'sip:wat\u0000cher@example.com', 'nul-1')));
    await producer.send(topic('subscriptions'), good, serde.encode('subscriptions', subscribe(good, 'sip:watcher@example.com', 'good-1')));
    const em = await started(s, 'em-nul', `it_badinput_nul_${process.pid}`);
    const notifies = await readTopic({ brokers: s.kafka.brokers, topic: topic('notify-requests'), partitions: 1, count: 1, timeoutMs: 30_000, settleMs: 500 });
    expect(notifies.map((m) => m.key?.toString())).toEqual([good]);
    expect(await serde.decode('notify-requests', notifies[0]!.value!)).toMatchObject({ callId: 'good-1', cseq: 1 });
    const dead = await readTopic({ brokers: s.kafka.brokers, topic: topic('dead-letters'), partitions: 3, count: 1, timeoutMs: 30_000, settleMs: 500 });
    expect(dead).toHaveLength(1);
    const letter = (await serde.decode('dead-letters', dead[0]!.value!)) as DeadLetter;
    expect(letter).toMatchObject({ component: 'event-manager', layer: 'database', reason: 'sqlstate-22021', context: { key: bad } });
    expect(letter.message).toMatch(/invalid byte sequence/);
    expect(em.stats.deadLetters).toBe(1);

    // Across a restart (the same member id, as a supervisor restarts it): the member goes on
    // from the committed offsets, so the refused SUBSCRIBE is not read again, and the next
    // presentity is served — the poison batch no longer outlives the process.
    await em.stop();
    const restarted = await started(s, 'em-nul', `it_badinput_nul_${process.pid}`);
    const later = 'msisdn:+351910000073';
    await producer.send(topic('subscriptions'), later, serde.encode('subscriptions', subscribe(later, 'sip:watcher@example.com', 'good-2')));
    const all = await readTopic({ brokers: s.kafka.brokers, topic: topic('notify-requests'), partitions: 1, count: 2, timeoutMs: 30_000, settleMs: 1000 });
    const callIds = await Promise.all(all.map(async (m) => ((await serde.decode('notify-requests', m.value!)) as { callId: string }).callId));
    expect(callIds.filter((c) => c === 'good-2')).toHaveLength(1);
    expect(callIds).not.toContain('nul-1');
    const deadAfter = await readTopic({ brokers: s.kafka.brokers, topic: topic('dead-letters'), partitions: 3, count: 1, timeoutMs: 30_000, settleMs: 1500 });
    expect(deadAfter).toHaveLength(1);
    expect(restarted.stats.deadLetters).toBe(0);
  }, 120_000);

  it('does not dead-letter records while the registry is unreachable: they are processed once it answers', async () => {
    const r = await rig('outage-registry');
    const { s: direct, serde, producer, topic } = r;
    const { settings: s, proxy } = await behindRegistryProxy(direct);
    cleanups.push(() => proxy.close());
    const em = await started(s, 'em-registry', `it_outage_registry_${process.pid}`);
    // A newer Subscription schema registered after the member loaded its ids: its records need the registry.
    const key = 'msisdn:+351910000073';
    const value = await evolvedRecord(r, 'subscriptions', 'Subscription', subscribe(key, 'sip:watcher@example.com', 'reg-1'));
    proxy.cut();
    await producer.send(topic('subscriptions'), key, value);
    await eventually('the record met the outage', () => em.processor.stats.aborts > 0 || em.stats.deadLetters > 0, { timeoutMs: 30_000, intervalMs: 100 });
    await sleep(1000);
    expect(em.stats.deadLetters).toBe(0);
    proxy.restore();
    const notifies = await readTopic({ brokers: s.kafka.brokers, topic: topic('notify-requests'), partitions: 1, count: 1, timeoutMs: 60_000, settleMs: 500 });
    expect(await serde.decode('notify-requests', notifies[0]!.value!)).toMatchObject({ callId: 'reg-1', cseq: 1 });
    expect(em.stats.deadLetters).toBe(0);
  }, 150_000);

  it('retries while the database is unreachable and dead-letters nothing', async () => {
    const { s: direct, serde, producer, topic } = await rig('outage-db');
    const proxy = await startTcpProxy('127.0.0.1', Number(new URL(testDatabaseUrl).port || 5432));
    cleanups.push(() => proxy.close());
    const s = { ...direct, database: { ...direct.database, url: proxy.via(testDatabaseUrl) } };
    const em = await started(s, 'em-db', `it_outage_db_${process.pid}`);
    proxy.cut();
    const key = 'msisdn:+351910000074';
    await producer.send(topic('subscriptions'), key, serde.encode('subscriptions', subscribe(key, 'sip:watcher@example.com', 'db-1')));
    await eventually('a batch aborted on the outage', () => em.processor.stats.aborts > 0, { timeoutMs: 30_000, intervalMs: 100 });
    await sleep(1000);
    expect(em.stats.deadLetters).toBe(0);
    proxy.restore();
    const notifies = await readTopic({ brokers: s.kafka.brokers, topic: topic('notify-requests'), partitions: 1, count: 1, timeoutMs: 60_000, settleMs: 500 });
    expect(await serde.decode('notify-requests', notifies[0]!.value!)).toMatchObject({ callId: 'db-1', cseq: 1 });
    expect(em.stats.deadLetters).toBe(0);
  }, 150_000);

  it('group presence: does not dead-letter records while the registry is unreachable: they are processed once it answers', async () => {
    const r = await rig('outage-registry-gp');
    const registryUrl = new URL(r.s.registry.url);
    const proxy = await startTcpProxy(registryUrl.hostname, Number(registryUrl.port));
    cleanups.push(() => proxy.close());
    const s = { ...r.s, registry: { ...r.s.registry, url: proxy.via(r.s.registry.url) } };
    const gp = await startGroupPresence(s, { memberId: 'gp-registry' });
    cleanups.push(() => gp.stop());
    await eventually('group partitions restored', () => gp.groups.processor.ctx.partitions().length > 0, { timeoutMs: 60_000, intervalMs: 100 });
    const value = await evolvedRecord(r, 'groups', 'Group', group([member(1), member(2)]));
    proxy.cut();
    await r.producer.send(r.topic('groups'), 'g1', value);
    const { stats, processor } = gp.groups;
    await eventually('the record met the outage', () => processor.stats.aborts > 0 || stats.deadLetters > 0, { timeoutMs: 30_000, intervalMs: 100 });
    await sleep(1000);
    expect(stats.deadLetters).toBe(0);
    proxy.restore();
    await eventually('the group record processed', () => stats.groupRecords > 0 && processor.stats.records > 0, { timeoutMs: 60_000, intervalMs: 100 });
    expect(stats.deadLetters).toBe(0);
  }, 150_000);

  it('NOTIFY sink: does not dead-letter a NotifyRequest while the registry is unreachable: it is delivered once it answers', async () => {
    const r = await rig('outage-registry-sink');
    const registryUrl = new URL(r.s.registry.url);
    const proxy = await startTcpProxy(registryUrl.hostname, Number(registryUrl.port));
    cleanups.push(() => proxy.close());
    const s = { ...r.s, registry: { ...r.s.registry, url: proxy.via(r.s.registry.url) } };
    const watcher = await openSipUdpClient();
    cleanups.push(() => watcher.close());
    const log: string[] = [];
    const sink = await startNotifySink(s, { host: '127.0.0.1', port: 0, t1Ms: 50, drainMs: 500, log: (l) => log.push(l) });
    cleanups.push(() => sink.stop());
    const n = notifyRecord({ callId: 'sink-outage-1', requestUri: `sip:watcher@127.0.0.1:${watcher.port}` });
    const value = await evolvedRecord(r, 'notify-requests', 'NotifyRequest', n);
    proxy.cut();
    await r.producer.send(r.topic('notify-requests'), n.presentity, value);
    await eventually('the sink met the outage', () => log.some((l) => /needs the registry/.test(l)) || sink.stats.deadLetters > 0, {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    expect(sink.stats).toMatchObject({ deadLetters: 0, undecodable: 0 });
    proxy.restore();
    const got = await watcher.next(30_000);
    expect(got).toMatchObject({ method: 'NOTIFY', callId: 'sink-outage-1' });
    expect(sink.stats).toMatchObject({ deadLetters: 0, undecodable: 0 });
  }, 150_000);

  it('group presence sink: a record the database refuses (NUL) is dead-lettered with the reason, the rest of the batch stored', async () => {
    const r = await rig('badinput-gp-sink');
    const schema = `it_badinput_gpsink_${process.pid}`;
    const table = new GroupPresenceTable(testDatabaseUrl, schema);
    cleanups.push(async () => {
      await table.close();
      await dropSchema(schema);
    });
    const doc = (groupId: string, name: string): GroupPresence => ({
      groupId,
      version: 1,
      memberCount: 0,
      availableCount: 0,
      contentType: 'multipart/related',
      document: 'doc',
      updatedAt: 1_700_000_000_000,
      uri: `sip:${groupId}@groups.example.net`,
      name,
      adminPolicy: 'members-only',
      groupInfo: '<group-info/>',
      members: [],
    });
    // Before the sink starts, so both arrive in one batch.
    await r.producer.send(r.topic('group-presence'), 'g-bad', r.serde.encode('group-presence', doc('g-bad', 'Te\u0000am')));
    await r.producer.send(r.topic('group-presence'), 'g-good', r.serde.encode('group-presence', doc('g-good', 'Team')));
    const sink = await GroupPresenceSink.start(r.s, table);
    cleanups.push(() => sink.stop());
    await eventually('the good group stored', () => table.get('g-good'), { timeoutMs: 60_000, intervalMs: 200 });
    const dead = await readTopic({ brokers: r.s.kafka.brokers, topic: r.topic('dead-letters'), partitions: 3, count: 1, timeoutMs: 30_000, settleMs: 500 });
    const letter = (await r.serde.decode('dead-letters', dead[0]!.value!)) as DeadLetter;
    expect(letter).toMatchObject({ component: 'group-presence-sink', layer: 'database', reason: 'sqlstate-22021', context: { key: 'g-bad' } });
    expect(await table.get('g-bad')).toBeUndefined();
    expect(sink.stats.deadLetters).toBe(1);
  }, 150_000);
});
