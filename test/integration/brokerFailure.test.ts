// A broker that dies mid-test must make clients fail with a clear message
// within their timeouts, not hang. Uses a throwaway broker of its own (same
// scripts as the local stack, other ports and data directory) so the shared
// stack stays up for the other tests.
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings, type Settings } from '../../config/settings.ts';
import { kafkaProcess, startKafka } from '../../infra/local/kafkaBroker.ts';
import { runningPid, stopProcess } from '../../infra/local/processes.ts';
import { brokerAnswers, createTopicsAndWait, withAdmin } from '../../kafka/kafkaAdmin.ts';
import { KafkaUnavailableError, RecordProducer } from '../../kafka/recordProducer.ts';
import { readTopic } from '../support/topicReader.ts';

const base = loadSettings();
const home = mkdtempSync(path.join(os.tmpdir(), 'presence-broker-failure-'));
// Share the downloaded classpath with the main stack: no second download.
symlinkSync(path.join(base.home, 'lib'), path.join(home, 'lib'));
const port = 19_192;
const s: Settings = { ...base, home, kafka: { ...base.kafka, port, controllerPort: port + 1, brokers: `127.0.0.1:${port}`, heapMb: 384 } };

afterAll(async () => {
  await stopProcess(kafkaProcess(s), 5000).catch(() => {});
  rmSync(home, { recursive: true, force: true });
});

describe('broker killed mid-test', () => {
  it('makes a send and a read fail with a clear error instead of hanging', async () => {
    await startKafka(
      s,
      () => {},
      () => brokerAnswers(s.kafka.brokers),
    );
    await withAdmin(s.kafka.brokers, (a) => createTopicsAndWait(a, [{ topic: 'doomed', numPartitions: 1 }]));
    const producer = new RecordProducer(s.kafka.brokers, 'it-doomed', 4000);
    await producer.connect();
    const ok = await producer.send('doomed', 'k', Buffer.from('before'));
    expect(ok.offset).toBe(0);

    process.kill(runningPid(kafkaProcess(s))!, 'SIGKILL');

    const started = Date.now();
    const err = await producer.send('doomed', 'k', Buffer.from('after')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaUnavailableError);
    expect((err as Error).message).toMatch(new RegExp(`Kafka at 127.0.0.1:${port} did not take the record`));
    expect(Date.now() - started).toBeLessThan(15_000);
    await producer.close();

    await expect(readTopic({ brokers: s.kafka.brokers, topic: 'doomed', partitions: 1, count: 1, timeoutMs: 4000 })).rejects.toThrow(
      new RegExp(`127.0.0.1:${port}`),
    );
  });
});
