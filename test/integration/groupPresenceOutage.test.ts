// Group presence has the same outage time limit as the event managers (issue
// 12): its processors stop after maxOutageMs of batches failing because the
// registry does not answer, say why, and discard nothing (no dead letter; the
// group record is processed once the registry is back). Outage made with a TCP
// proxy in front of the shared registry.
import { afterAll, describe, expect, it } from 'vitest';
import { RecordSerde } from '../../schemas/serde.ts';
import { startGroupPresence } from '../../streams/group-presence/groupPresenceService.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { evolvedRecord } from '../support/evolvedRecord.ts';
import { group, member } from '../support/groupRecords.ts';
import { behindRegistryProxy } from '../support/tcpProxy.ts';
import { readTopic } from '../support/topicReader.ts';
import { eventually } from '../support/wait.ts';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe('group presence outage time limit', () => {
  it('stops group presence after maxOutageMs of registry outage, with the reason, and loses nothing', async () => {
    const direct = isolatedSettings('gp-outage', 1);
    await applyIsolated(direct);
    const serde = new RecordSerde(direct.registry.url, direct.topics.prefix);
    await serde.loadIds();
    const producer = new RecordProducer(direct.kafka.brokers, 'it-gp-outage', 15_000);
    await producer.connect();
    cleanups.push(async () => {
      await producer.close();
      await cleanupIsolated(direct);
    });
    const topic = (n: Parameters<typeof topicName>[1]) => topicName(direct.topics.prefix, n);
    const { settings: s, proxy } = await behindRegistryProxy(direct);
    cleanups.push(() => proxy.close());

    const maxOutageMs = 4_000;
    const gp = await startGroupPresence(s, { memberId: 'gp-outage-1', maxOutageMs });
    cleanups.push(() => gp.stop());
    const stopped = gp.done().then(
      () => null,
      (e: unknown) => e as Error,
    );
    await eventually('group partitions assigned', () => gp.groups.processor.ctx.partitions().length > 0, { timeoutMs: 60_000 });

    // A group record written with a newer schema: decoding it needs the registry.
    const g = group([member(1), member(2)], { groupId: 'g-outage' });
    const value = await evolvedRecord(serde, direct.topics.prefix, 'groups', 'Group', g);

    proxy.cut();
    const cutAt = Date.now();
    await producer.send(topic('groups'), g.groupId, value);
    const err = await Promise.race([stopped, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 60_000))]);
    const stoppedAfterMs = Date.now() - cutAt;
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/dependency outage for \d+ s, past the max outage wait of 4 s/);
    expect(stoppedAfterMs).toBeGreaterThanOrEqual(maxOutageMs);
    expect(gp.groups.stats.deadLetters).toBe(0);

    // Nothing lost: the registry answers again and a new member processes the group record.
    await gp.stop();
    proxy.restore();
    const next = await startGroupPresence(s, { memberId: 'gp-outage-2', maxOutageMs });
    cleanups.push(() => next.stop());
    const docs = await readTopic({ brokers: s.kafka.brokers, topic: topic('group-presence'), partitions: 6, count: 1, timeoutMs: 90_000, settleMs: 500 });
    expect(docs).toHaveLength(1);
    expect(await serde.decode('group-presence', docs[0]!.value!)).toMatchObject({ groupId: 'g-outage' });
    expect(next.groups.stats.deadLetters).toBe(0);
  }, 200_000);
});
