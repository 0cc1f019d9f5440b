// Restore progress, from the processor to the page: a member takes a partition
// whose changelog it must read before processing it; while it reads, its
// MemberReports carry how far it is, and the console's stream shows the
// partition restoring at that member, then says when the restore ended. The
// changelog's decoder is held after ten records, so the test sees the restore
// mid-way however fast the broker is.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopicsAndWait, withAdmin } from '../../kafka/kafkaAdmin.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { TransactionalProcessor } from '../../kafka/transactionalProcessor.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { startConsole, type Console } from '../../services/console/consoleServer.ts';
import type { GroupSnapshot, RestoreDone } from '../../services/console/groupView.ts';
import { LoadMeter } from '../../streams/event-manager/membership/loadMeter.ts';
import { MemberReporter } from '../../streams/event-manager/membership/memberReporter.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { SseClient } from '../support/sseClient.ts';
import { eventually } from '../support/wait.ts';

const s = isolatedSettings('console-restore', 1);
const input = `${s.topics.prefix}restore-input`;
const changelog = `${s.topics.prefix}restore-changelog`;
const RECORDS = 30;
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const producer = new RecordProducer(s.kafka.brokers, 'it-console-restore', 15_000);
let app: Console | undefined;
let processor: TransactionalProcessor<number> | undefined;
let reporter: MemberReporter | undefined;
let stream: SseClient | undefined;
let release: () => void = () => {};
const gate = new Promise<void>((r) => (release = r));

beforeAll(async () => {
  await applyIsolated(s);
  await withAdmin(s.kafka.brokers, (a) =>
    createTopicsAndWait(a, [
      { topic: input, numPartitions: 1 },
      { topic: changelog, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
    ]),
  );
  await serde.loadIds();
  await producer.connect();
  for (let i = 0; i < RECORDS; i++) await producer.send(changelog, `key-${i}`, Buffer.from(String(i)));
  app = await startConsole(s, { port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  await eventually('the console reading Kafka', async () => (await fetch(`${base}/api/healthz`)).status === 200, { timeoutMs: 60_000 });
  stream = await SseClient.open(`${base}/api/stream`);
});

afterAll(async () => {
  release();
  stream?.close();
  await reporter?.leave();
  await processor?.stop().catch(() => {});
  await app?.stop();
  await producer.close();
  await withAdmin(s.kafka.brokers, (a) => a.deleteTopics({ topics: [input, changelog] })).catch(() => {});
  await cleanupIsolated(s);
});

describe('restore progress on the console', () => {
  it('shows the partition restoring at its new owner with records read of the offsets to read, then the restore ending', async () => {
    let decoded = 0;
    processor = new TransactionalProcessor<number>({
      brokers: s.kafka.brokers,
      clientId: 'it-console-restore',
      groupId: `${s.topics.prefix}restore-group`,
      inputTopics: [input],
      transactionalId: `${s.topics.prefix}restore-member`,
      store: {
        changelogTopic: changelog,
        encode: (n) => Buffer.from(String(n)),
        // Held after ten records until the test has seen the restore mid-way.
        decode: async (b) => {
          if (++decoded > 10) await gate;
          return Number(b.toString());
        },
      },
      process: () => [],
    });
    await processor.start();
    const p = processor;
    reporter = new MemberReporter({
      memberId: 'em-restore',
      topic: topicName(s.topics.prefix, 'event-manager-members'),
      serde,
      producer,
      meter: new LoadMeter(),
      owned: () => new Map(p.assignments().map((a) => [a.partition, 0])),
      restoring: () => p.restoreProgress(),
      intervalMs: 60_000,
      restoreIntervalMs: 300,
    });
    await reporter.start();

    const restoring = await stream!.next<GroupSnapshot>(
      'members',
      (g) => g.members.some((m) => m.memberId === 'em-restore' && m.restoring.some((r) => r.restoredRecords >= 10)),
      60_000,
    );
    const r = restoring.members.find((m) => m.memberId === 'em-restore')!.restoring[0]!;
    expect(r).toMatchObject({ partition: 0, phase: 'reading-changelog' });
    // Counted as read when taken from the batch: the held eleventh is counted.
    expect(r.restoredRecords).toBeGreaterThanOrEqual(10);
    expect(r.restoredRecords).toBeLessThanOrEqual(11);
    // An upper bound: the offsets of the changelog (compaction may not have run; no transaction markers here).
    expect(r.toRead).toBeGreaterThanOrEqual(RECORDS);
    expect(restoring.owners).toEqual(['em-restore']);

    release();
    const done = await stream!.next<RestoreDone[]>('restored', (d) => d.some((x) => x.memberId === 'em-restore' && x.partition === 0), 60_000);
    expect(done[0]!.ms).toBeGreaterThanOrEqual(0);
    // Snapshots from after the restore ended (the stream keeps the earlier ones too).
    const after = await stream!.next<GroupSnapshot>(
      'members',
      (g) => g.at >= done[0]!.at && g.members.some((m) => m.memberId === 'em-restore' && m.restoring.length === 0),
    );
    expect(after.owners).toEqual(['em-restore']);
    expect(p.restoreProgress()).toEqual([]);
  });
});
