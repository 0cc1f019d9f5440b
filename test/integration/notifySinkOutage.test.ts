// The notify sink has the same outage time limit as the event managers and group
// presence (issue 12): with the registry gone it cannot decode a NotifyRequest; past
// maxOutageMs it stops, says why and discards nothing — no report, no dead letter,
// no commit — so a sink started once the registry is back delivers the NOTIFY.
// Outage made with a TCP proxy in front of the shared registry.
import { afterAll, describe, expect, it } from 'vitest';
import { startNotifySink } from '../../connectors/sinks/notify/notifySink.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { evolvedRecord } from '../support/evolvedRecord.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { notifyRecord } from '../support/notifyRecords.ts';
import { StrictWatcher } from '../support/strictWatcher.ts';
import { behindRegistryProxy } from '../support/tcpProxy.ts';
import { readTopic } from '../support/topicReader.ts';
import { eventually } from '../support/wait.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe('notify sink outage time limit', () => {
  it('stops after maxOutageMs without the registry, with the reason, and the NOTIFY is delivered after a restart', async () => {
    const direct = isolatedSettings('sink-outage', 1);
    await applyIsolated(direct);
    const serde = new RecordSerde(direct.registry.url, direct.topics.prefix);
    await serde.loadIds();
    const producer = new RecordProducer(direct.kafka.brokers, 'it-sink-outage', 15_000);
    await producer.connect();
    const watcher = await StrictWatcher.open();
    cleanups.push(
      () => cleanupIsolated(direct),
      () => producer.close(),
      () => watcher.close(),
    );
    const { settings: s, proxy } = await behindRegistryProxy(direct);
    cleanups.push(() => proxy.close());
    const topic = (n: Parameters<typeof topicName>[1]) => topicName(direct.topics.prefix, n);

    const maxOutageMs = 4_000;
    const log: string[] = [];
    const sink = await startNotifySink(s, { port: 0, memberId: 'sink-outage-1', maxOutageMs, log: (l) => log.push(l) });
    cleanups.push(() => sink.stop());
    const stopped = sink.done().then(
      () => null,
      (e: unknown) => e as Error,
    );

    // Written with a newer schema: decoding it needs the registry.
    const n = notifyRecord({ notifyId: 'outage-1', callId: 'outage-1', cseq: 3, requestUri: `sip:watcher@127.0.0.1:${watcher.port}`, createdAt: Date.now() });
    const value = await evolvedRecord(serde, direct.topics.prefix, 'notify-requests', 'NotifyRequest', n);
    proxy.cut();
    const cutAt = Date.now();
    await producer.send(topic('notify-requests'), n.presentity, value);
    const err = await Promise.race([stopped, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 60_000))]);
    const stoppedAfterMs = Date.now() - cutAt;
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/dependency outage for \d+ s, past the max outage wait of 4 s/);
    expect(stoppedAfterMs).toBeGreaterThanOrEqual(maxOutageMs);
    expect(sink.stats).toMatchObject({ reports: 0, deadLetters: 0, undecodable: 0, commits: 0 });
    expect(watcher.received).toEqual([]);
    await sink.stop();

    // Nothing lost: with the registry back, the next sink delivers it and reports it once.
    proxy.restore();
    const next = await startNotifySink(s, { port: 0, memberId: 'sink-outage-2', maxOutageMs });
    cleanups.push(() => next.stop());
    await eventually('the NOTIFY delivered after the restart', () => watcher.received.length === 1, { timeoutMs: 60_000 });
    expect(watcher.received[0]!.status).toBe(200);
    const reports = await readTopic({ brokers: s.kafka.brokers, topic: topic('delivery-reports'), partitions: 1, count: 1, timeoutMs: 30_000, settleMs: 500 });
    expect(reports).toHaveLength(1);
    expect(await serde.decode('delivery-reports', reports[0]!.value!)).toMatchObject({ notifyId: 'outage-1', outcome: 'delivered' });
    expect(next.stats.deadLetters).toBe(0);
  }, 200_000);
});
