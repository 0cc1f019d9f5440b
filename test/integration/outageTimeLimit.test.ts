// An outage has a time limit (issue 12): an event manager whose batches keep
// failing because the registry does not answer stops after maxOutageMs with an
// error that says so — it neither retries forever nor discards the record: the
// batch stays uncommitted, and a member started after the registry is back
// processes it. The outage is made with a TCP proxy in front of the shared registry.
import { afterAll, describe, expect, it } from 'vitest';
import { RecordSerde } from '../../schemas/serde.ts';
import { startEventManager } from '../../streams/event-manager/eventManager.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { evolvedRecord } from '../support/evolvedRecord.ts';
import { subscriptionRecord } from '../support/subscriptionRecords.ts';
import { behindRegistryProxy } from '../support/tcpProxy.ts';
import { readTopic } from '../support/topicReader.ts';
import { eventually } from '../support/wait.ts';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe('outage time limit', () => {
  it('stops the event manager after maxOutageMs of registry outage, with the reason, and loses nothing', async () => {
    const base = isolatedSettings('outage-limit', 1);
    const direct = { ...base, database: { ...base.database, url: testDatabaseUrl } };
    await applyIsolated(direct);
    const serde = new RecordSerde(direct.registry.url, direct.topics.prefix);
    await serde.loadIds();
    const producer = new RecordProducer(direct.kafka.brokers, 'it-outage-limit', 15_000);
    await producer.connect();
    const rulesSchema = `it_outage_limit_${process.pid}`;
    cleanups.push(async () => {
      await producer.close();
      await dropSchema(rulesSchema);
      await cleanupIsolated(direct);
    });
    const topic = (n: Parameters<typeof topicName>[1]) => topicName(direct.topics.prefix, n);
    const { settings: s, proxy } = await behindRegistryProxy(direct);
    cleanups.push(() => proxy.close());

    const maxOutageMs = 4_000;
    const em = await startEventManager(s, { memberId: 'em-outage-limit', rulesSchema, protocol: 'classic', maxOutageMs });
    cleanups.push(() => em.stop());
    const stopped = em.done().then(
      () => null,
      (e: unknown) => e as Error,
    );
    await eventually('partition 0 restored', () => em.processor.ctx.partitions().length === 1, { timeoutMs: 60_000, intervalMs: 100 });

    // A record written with a newer schema: decoding it needs the registry.
    const key = 'msisdn:+351910000081';
    const value = await evolvedRecord(
      serde,
      direct.topics.prefix,
      'subscriptions',
      'Subscription',
      subscriptionRecord(key, 'limit-1', { watcherUri: 'sip:watcher@example.com' }),
    );

    proxy.cut();
    const cutAt = Date.now();
    await producer.send(topic('subscriptions'), key, value);
    const err = await Promise.race([stopped, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 60_000))]);
    const stoppedAfterMs = Date.now() - cutAt;
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/dependency outage for \d+ s, past the max outage wait of 4 s/);
    expect((err as Error).message).toMatch(/nothing discarded/);
    expect(stoppedAfterMs).toBeGreaterThanOrEqual(maxOutageMs);
    expect(em.stats.deadLetters).toBe(0);
    console.log(`outage limit: stopped ${stoppedAfterMs} ms after the cut (limit ${maxOutageMs} ms), ${em.processor.stats.aborts} aborted batches`);

    // Nothing lost: the process exits (run event-manager: status 1), the registry answers again, a new member processes the record.
    await em.stop();
    proxy.restore();
    const next = await startEventManager(s, { memberId: 'em-outage-limit-2', rulesSchema, protocol: 'classic', maxOutageMs });
    cleanups.push(() => next.stop());
    const notifies = await readTopic({ brokers: s.kafka.brokers, topic: topic('notify-requests'), partitions: 1, count: 1, timeoutMs: 90_000, settleMs: 500 });
    expect(notifies).toHaveLength(1);
    expect(await serde.decode('notify-requests', notifies[0]!.value!)).toMatchObject({ callId: 'limit-1', cseq: 1 });
    expect(next.stats.deadLetters).toBe(0);
  }, 200_000);
});
