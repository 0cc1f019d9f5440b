// `presence topics repartition` as an operator runs it: refused while an event
// manager runs; once it is stopped, the state moves from 4 to 8 subscriber
// partitions under a new prefix, and an event manager started there carries
// on each watcher's dialog as if nothing had happened — the next change is
// NOTIFYed once per dialog, CSeq and version following the last ones sent
// before the move, and nothing processed before the move is processed again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Settings } from '../../config/settings.ts';
import { groupLag } from '../../kafka/groupLag.ts';
import Kafka from 'node-rdkafka';
import { partitionOf } from '../../kafka/partitioner.ts';
import { producerConfig, producerTopicConfig } from '../../kafka/rdkafkaConfig.ts';
import { connectProducer, disconnect, flush } from '../../kafka/rdkafkaPromises.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import type { NotifyRequest } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { EVENT_MANAGER_GROUP, EVENT_MANAGER_INPUTS, startEventManager } from '../../streams/event-manager/eventManager.ts';
import { oneModeProfile } from '../support/availabilityProfiles.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { mapEvent } from '../support/signalingEvents.ts';
import { subscriptionRecord } from '../support/subscriptionRecords.ts';
import { runPresence } from '../support/memberProcess.ts';
import { readTopic } from '../support/topicReader.ts';
import { eventually } from '../support/wait.ts';

const base = isolatedSettings('repartition', 4);
const from: Settings = { ...base, database: { ...base.database, url: testDatabaseUrl } };
const to: Settings = { ...from, topics: { ...from.topics, prefix: from.topics.prefix.replace(/\.$/, '-v2.'), partitions: 8 } };
const rulesSchema = `it_repartition_rules_${process.pid}`;
const serde = new RecordSerde(from.registry.url, from.topics.prefix);
const subscribers = Array.from({ length: 16 }, (_, i) => `msisdn:+3519100003${String(i).padStart(2, '0')}`);
const T = Date.UTC(2026, 0, 1, 8);
let producer: RecordProducer;

const presence = (args: string[]) => runPresence(from, ['topics', 'repartition', ...args]);

async function notifies(s: Settings, count: number): Promise<Array<NotifyRequest & { partition: number }>> {
  const got = await readTopic({
    brokers: s.kafka.brokers,
    topic: topicName(s.topics.prefix, 'notify-requests'),
    partitions: s.topics.partitions,
    count,
    timeoutMs: 60_000,
    settleMs: 2000,
  });
  return Promise.all(got.map(async (m) => ({ ...(await serde.decode('notify-requests', m.value!)), partition: m.partition })));
}

// This test runs an event manager only: the other roles' topics (NOTIFYs no sink sends, signaling no deriver reads) are nobody's.
const notDeployed = ['notify-sink', 'event-deriver', 'location-agent', 'group-presence', 'group-presence-api', 'event-service'];
const moveArgs = ['--to-prefix', to.topics.prefix, '--partitions', '8', '--not-deployed', notDeployed.join(',')];

beforeAll(async () => {
  await applyIsolated(from);
  await serde.loadIds();
  producer = new RecordProducer(from.kafka.brokers, 'it-repartition', 15_000);
  await producer.connect();
}, 60_000);

afterAll(async () => {
  await producer?.close();
  await cleanupIsolated(from);
  await cleanupIsolated(to);
  await dropSchema(rulesSchema);
}, 60_000);

describe('presence topics repartition', () => {
  it('refuses while an event manager runs; once stopped, moves state and dialogs from 4 to 8 partitions, and the next change is NOTIFYed once per dialog, CSeq and version carried on', async () => {
    const t = (s: Settings, n: Parameters<typeof topicName>[1]) => topicName(s.topics.prefix, n as never);
    const em1 = await startEventManager(from, { memberId: 'repartition-1', rulesSchema });
    let stopped = false;
    try {
      for (const [i, a] of subscribers.entries()) {
        await producer.send(t(from, 'subscriptions'), a, serde.encode('subscriptions', subscriptionRecord(a, `dialog-${i}`, { receivedAt: T })));
        for (const e of [
          mapEvent(
            a,
            'updateLocation',
            'invoke',
            T + 1000,
            { vlrNumber: '351910999001', mscNumber: '351910999001', opc: 100, dpc: 200 },
            { eventId: `e1-${i}` },
          ),
          mapEvent(a, 'updateLocation', 'result', T + 1100, { hlrNumber: '351910999900', opc: 200, dpc: 100 }, { eventId: `e2-${i}` }),
        ])
          await producer.send(t(from, 'signaling-events'), a, serde.encode('signaling-events', e));
      }
      // A profile change of a subscriber nobody watches: a compacted input of the event managers, copied like the rest.
      const unwatched = 'msisdn:+351910000399';
      await producer.send(
        t(from, 'availability-profiles'),
        unwatched,
        serde.encode('availability-profiles', {
          subscriber: unwatched,
          version: 1,
          profiles: JSON.stringify(oneModeProfile({ kind: 'available' })),
          previous: null,
          changedAt: T,
          cause: 'profiles',
        }),
      );
      // A group document past the clients' 1 MB default (the group topics take 64 MiB records): the copy must take it too.
      const big = new Kafka.Producer(
        producerConfig({ brokers: from.kafka.brokers, clientId: 'it-repartition-big' }, { 'message.max.bytes': 4 * 1024 * 1024 }),
        producerTopicConfig,
      );
      await connectProducer(big);
      big.produce(t(from, 'group-presence'), null, Buffer.alloc(2 * 1024 * 1024, 7), Buffer.from('big-group'));
      await flush(big, 30_000);
      await disconnect(big);
      // Subscribed (1), attaching (2), attached and open (3), for every dialog.
      const before = await notifies(from, subscribers.length * 3);
      expect(before).toHaveLength(subscribers.length * 3);

      const refused = await presence(moveArgs);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(new RegExp(`consumer group ${from.topics.prefix}${EVENT_MANAGER_GROUP} has 1 member\\(s\\): stop them first`));

      await em1.stop();
      stopped = true;
      // A record written after the member stopped: the group is behind, so no move yet.
      await producer.send(
        t(from, 'signaling-events'),
        unwatched,
        serde.encode(
          'signaling-events',
          mapEvent(unwatched, 'updateLocation', 'invoke', T + 2000, { vlrNumber: '351910999001', opc: 100, dpc: 200 }, { eventId: 'late' }),
        ),
      );
      // And a location request, which no group has ever committed on (no location agent ran): not among any group's offsets.
      await producer.send(
        t(from, 'location-requests'),
        unwatched,
        serde.encode('location-requests', {
          requestId: 'late-location',
          subscriber: unwatched,
          requestedAt: T + 2000,
          reason: 'watcher',
          maxLocationAgeS: null,
          horizontalAccuracyM: null,
        }),
      );
      const behind = await presence([...moveArgs.slice(0, -1), notDeployed.filter((r) => r !== 'location-agent').join(','), '--check']);
      expect(behind.code).toBe(1);
      expect(behind.stderr).toMatch(new RegExp(`${EVENT_MANAGER_GROUP} has 1 record\\(s\\) not yet processed \\(.*signaling-events\\[\\d\\]\\)`));
      expect(behind.stderr).toMatch(/location-requests holds records no group of role location-agent .* has processed: it has 1 record\(s\) not yet processed/);
      const catchingUp = await startEventManager(from, { memberId: 'repartition-1', rulesSchema });
      await eventually('the late record to be processed', () => catchingUp.processor.stats.records >= 1, { timeoutMs: 60_000 });
      await catchingUp.stop();
      const checked = await presence([...moveArgs, '--check']);
      expect(checked.code, checked.stderr).toBe(0);
      expect(checked.stdout).toMatch(/^ready: .*→ .*\(8 partitions\); \d+ consumer group\(s\) to carry over/);

      const t0 = Date.now();
      const moved = await presence(moveArgs);
      console.log(`repartition: ${Date.now() - t0} ms for the command; ${moved.stdout.trim()}`);
      expect(moved.code, moved.stderr).toBe(0);
      expect(moved.stdout).toMatch(/repartitioned .* \(4 partitions\) → .* \(8 partitions\)/);

      // The state changelog under the new prefix: every subscriber, each in its partition of eight.
      const changelog = await readTopic({
        brokers: to.kafka.brokers,
        topic: t(to, 'event-manager-presence-store-changelog'),
        partitions: 8,
        count: subscribers.length + 1,
        settleMs: 1000,
      });
      expect(new Set(changelog.map((m) => m.key!.toString()))).toEqual(new Set([...subscribers, unwatched]));
      for (const m of changelog) expect(m.partition, m.key!.toString()).toBe(partitionOf(m.key!.toString(), 8));
      const [document] = await readTopic({ brokers: to.kafka.brokers, topic: t(to, 'group-presence'), partitions: 6, count: 1, settleMs: 500 });
      expect(document?.key?.toString()).toBe('big-group');
      expect(document?.value?.length).toBe(2 * 1024 * 1024);
      // The group's position is carried: nothing of the copies is left to process.
      const lag = await groupLag(
        to.kafka.brokers,
        `${to.topics.prefix}${EVENT_MANAGER_GROUP}`,
        EVENT_MANAGER_INPUTS.map((n) => t(to, n)),
      );
      expect(lag.find((p) => p.topic === t(to, 'availability-profiles') && p.end > 0)?.committed).toBeGreaterThan(0);
      expect(lag.filter((p) => p.lag > 0)).toEqual([]);

      // Again: the target holds records now.
      const again = await presence(moveArgs);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/the target topics already hold records/);
    } finally {
      if (!stopped) await em1.stop();
    }

    const em2 = await startEventManager(to, { memberId: 'repartition-2', rulesSchema });
    try {
      const toSerde = new RecordSerde(to.registry.url, to.topics.prefix);
      await toSerde.loadIds();
      for (const [i, a] of subscribers.entries())
        await producer.send(
          t(to, 'signaling-events'),
          a,
          toSerde.encode(
            'signaling-events',
            mapEvent(a, 'purgeMS', 'invoke', T + 60_000, { vlrNumber: '351910999001', opc: 100, dpc: 200 }, { eventId: `e3-${i}` }),
          ),
        );
      const after = await notifies(to, subscribers.length);
      // One NOTIFY per dialog, none re-sent for the changes made before the move.
      expect(after.map((n) => n.causeEventId).sort()).toEqual(subscribers.map((_, i) => `e3-${i}`).sort());
      for (const n of after) {
        expect(n.partition).toBe(partitionOf(n.presentity, 8));
        expect(n, n.presentity).toMatchObject({ cseq: 4, version: 4, subscriptionState: 'active' });
        // Open before the move, closed by the purge: the change is only a change with the state carried over.
        expect(n.body).not.toContain('<basic>open</basic>');
      }
    } finally {
      await em2.stop();
    }
  }, 240_000);
});
