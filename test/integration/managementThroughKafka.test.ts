// Issue 16 part 6: management changes made outside the HTTP APIs — `presence
// rules set` and `presence profiles activate` from an operator's shell, another
// process — reach the owning event manager through Kafka within a second.
// - A watcher rule is written with an outbox row in the same transaction,
//   relayed to watcher-consents by the availability service's consent relay: a
//   pending watcher approved gets its active NOTIFY, an active one blocked its
//   terminated NOTIFY. Before, such a rule lived only in PostgreSQL and reached
//   a dialog at its next refresh.
// - A profile activation's outbox row wakes the availability relay by a
//   PostgreSQL notification at commit (before: its 500 ms poll).
// Each measured from the commit to the NOTIFY committed on notify-requests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import type { NotifyRequest } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { startAvailabilityService, type AvailabilityService } from '../../services/availability-service/availabilityService.ts';
import { registerAvailabilityServiceMetrics } from '../../services/availability-service/availabilityServiceMetrics.ts';
import { HttpStats } from '../../protocols/http/httpStats.ts';
import { MetricsRegistry } from '../../protocols/http/metrics.ts';
import { WatcherConsentService } from '../../services/availability-service/watcherConsents.ts';
import { CONNECTABILITY_NS } from '../../streams/event-manager/presence/connectabilityElement.ts';
import { AvailabilityStore } from '../../subscriber/availability/availabilityStore.ts';
import { COLLEAGUE, PROFESSIONAL } from '../support/availabilityProfiles.ts';
import { WatcherRules } from '../../streams/event-manager/authorization/watcherRules.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { mapEvent } from '../support/signalingEvents.ts';
import { subscriptionRecord } from '../support/subscriptionRecords.ts';
import { tailTopic, type TopicTail } from '../support/topicTail.ts';
import { eventually } from '../support/wait.ts';

const PARTITIONS = 2;
const base = isolatedSettings('callh-mgmt-kafka', PARTITIONS);
const s = {
  ...base,
  database: { ...base.database, url: testDatabaseUrl },
  // Watchers without a rule wait for the presentity's consent.
  eventManager: { ...base.eventManager, defaultWatcherDecision: 'confirm' as const },
};
const schema = `it_callh_mgmt_kafka_${process.pid}`;
const KEY = 'msisdn:+351910000141';
const BOUND_MS = 1000;

const serde = new RecordSerde(s.registry.url, s.topics.prefix);
let producer: RecordProducer;
let em: EventManager;
let consents: WatcherConsentService;
let notifies: TopicTail;
const cleanups: Array<() => Promise<unknown>> = [];

const connectabilityOf = (n: NotifyRequest) => new RegExp(`<cn:connectability xmlns:cn="${CONNECTABILITY_NS}">([a-z-]+)<`).exec(n.body ?? '')?.[1];

/** The first NOTIFY to `watcher` in `state` (and saying `connectability`, when given) from index `from` on, with its arrival time. */
async function nextNotify(watcher: string, state: string, from: number, connectability?: string): Promise<{ n: NotifyRequest; at: number }> {
  let found: { n: NotifyRequest; at: number } | undefined;
  await eventually(
    `a NOTIFY to ${watcher} in state ${state}`,
    async () => {
      for (let i = from; i < notifies.arrived.length; i++) {
        const a = notifies.arrived[i]!;
        if (a.message.key?.toString() !== KEY) continue;
        const n = await serde.decode('notify-requests', a.message.value!);
        if (n.toUri === watcher && n.subscriptionState === state && (connectability === undefined || connectabilityOf(n) === connectability))
          return (found = { n, at: a.at });
      }
      return undefined;
    },
    { timeoutMs: 20_000, intervalMs: 5 },
  );
  return found!;
}

async function subscribe(watcherUri: string, callId: string): Promise<void> {
  await producer.send(
    topicName(s.topics.prefix, 'subscriptions'),
    KEY,
    serde.encode('subscriptions', subscriptionRecord(KEY, callId, { watcherUri, expires: 3600, receivedAt: Date.now() })),
  );
}

beforeAll(async () => {
  await applyIsolated(s);
  cleanups.push(
    () => cleanupIsolated(s),
    () => dropSchema(schema),
  );
  await serde.loadIds();
  producer = new RecordProducer(s.kafka.brokers, 'it-callh-rule-outbox', 15_000);
  await producer.connect();
  cleanups.push(() => producer.close());
  notifies = await tailTopic(s.kafka.brokers, topicName(s.topics.prefix, 'notify-requests'), PARTITIONS);
  cleanups.push(() => notifies.stop());
  em = await startEventManager(s, { memberId: 'em-callh-rules', rulesSchema: schema });
  cleanups.push(() => em.stop());
  // The availability service's consent part: it relays the rules' outbox.
  consents = new WatcherConsentService(s, new WatcherRules(s.database.url, 'confirm', schema, 0));
  await consents.start();
  cleanups.push(() => consents.close());
  await eventually('both partitions restored', () => em.processor.ctx.partitions().length === PARTITIONS, { timeoutMs: 60_000 });
  const now = Date.now();
  for (const e of [
    mapEvent(KEY, 'updateLocation', 'invoke', now - 2000, { vlrNumber: '351910999001', opc: 1 }),
    mapEvent(KEY, 'updateLocation', 'result', now - 1000, { dpc: 1 }),
  ])
    await producer.send(topicName(s.topics.prefix, 'signaling-events'), KEY, serde.encode('signaling-events', e));
}, 120_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe('management changes from another process reach the event manager through Kafka within a second (issue 16 part 6)', () => {
  it('approve a pending watcher, then block it: each NOTIFY within a second of the commit', async () => {
    // What `presence rules set` does, in a process of its own.
    const cli = new WatcherRules(s.database.url, 'confirm', schema, 0);
    await cli.migrate();
    cleanups.push(() => cli.close());
    const latencies: number[] = [];
    for (let i = 0; i < 3; i++) {
      const watcher = `sip:friend${i}@home.example`;
      await subscribe(watcher, `rule-outbox-${i}`);
      await nextNotify(watcher, 'pending', 0);

      let from = notifies.arrived.length;
      let t0 = Date.now();
      await cli.set(KEY, watcher, 'allow');
      const active = await nextNotify(watcher, 'active', from);
      latencies.push(active.at - t0);
      expect(active.n.body).toMatch(/<presence/);

      from = notifies.arrived.length;
      t0 = Date.now();
      await cli.set(KEY, watcher, 'block');
      const ended = await nextNotify(watcher, 'terminated', from);
      latencies.push(ended.at - t0);
      expect(ended.n.reason).toBe('rejected');
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    process.stderr.write(`[mgmt-kafka] rule committed → NOTIFY committed: ${latencies.join(', ')} ms (median ${sorted[Math.floor(sorted.length / 2)]} ms)\n`);
    for (const l of latencies) expect(l).toBeLessThan(BOUND_MS);
    expect(em.stats.deadLetters).toBe(0);
    await eventually('the rules outbox drained', async () => (await cli.outboxBacklog()) === 0);
    // What the availability service's admin port shows of it.
    const metrics = new MetricsRegistry();
    const noProfiles = { store: { outboxBacklog: async () => 0 }, relay: undefined } as unknown as AvailabilityService;
    registerAvailabilityServiceMetrics(metrics, noProfiles, new HttpStats(), consents);
    const { body } = await metrics.scrape();
    expect(body).toMatch(/^presence_availability_service_rule_outbox_backlog 0$/m);
    expect(body).toMatch(/^presence_availability_service_rule_outbox_published_total 6$/m);
  }, 120_000);

  it('a profile activation written as `presence profiles activate` does: the watcher whose connectability changed told within a second', async () => {
    const svc = await startAvailabilityService(s, { port: 27210, host: '127.0.0.1', schema });
    cleanups.push(() => svc.stop());
    const cli = new AvailabilityStore(s.database.url, schema, 0);
    cleanups.push(() => cli.close());
    const rules = new WatcherRules(s.database.url, 'confirm', schema, 0);
    cleanups.push(() => rules.close());
    await rules.set(KEY, COLLEAGUE, 'allow');
    const applied = em.stats.profileChanges;
    await cli.setProfiles(KEY, { ...PROFESSIONAL, active: 'personal' });
    await eventually('the profiles applied', () => em.stats.profileChanges > applied, { timeoutMs: 20_000 });
    await subscribe(COLLEAGUE, 'mgmt-colleague');
    await nextNotify(COLLEAGUE, 'active', 0, 'connectable');

    const latencies: number[] = [];
    for (let i = 0; i < 3; i++)
      for (const [profile, manualMode, expected] of [
        ['professional', 'meeting', 'in-transfer'],
        ['personal', null, 'connectable'],
      ] as const) {
        const from = notifies.arrived.length;
        const t0 = Date.now();
        await cli.activate(KEY, profile, manualMode);
        latencies.push((await nextNotify(COLLEAGUE, 'active', from, expected)).at - t0);
      }
    const sorted = [...latencies].sort((a, b) => a - b);
    process.stderr.write(
      `[mgmt-kafka] activation committed → NOTIFY committed: ${latencies.join(', ')} ms (median ${sorted[Math.floor(sorted.length / 2)]} ms)\n`,
    );
    for (const l of latencies) expect(l).toBeLessThan(BOUND_MS);
    await eventually('the availability outbox drained', async () => (await svc.store.outboxBacklog()) === 0);
  }, 120_000);
});
