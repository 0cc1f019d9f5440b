// A broker that dies mid-test must make clients fail with a clear message
// within their timeouts, not hang. Uses a throwaway broker of its own (same
// scripts as the local stack, other ports and data directory) so the shared
// stack stays up for the other tests.
import { afterAll, describe, expect, it } from 'vitest';
import { createTopicsAndWait, withAdmin } from '../../kafka/kafkaAdmin.ts';
import { KafkaUnavailableError, RecordProducer } from '../../kafka/recordProducer.ts';
import { privateBroker } from '../support/privateBroker.ts';
import { readTopic } from '../support/topicReader.ts';

const port = 19_192;
const broker = privateBroker('broker-failure', port);
const s = broker.settings;

afterAll(() => broker.remove());

describe('broker killed mid-test', () => {
  it('makes a send and a read fail with a clear error instead of hanging', async () => {
    await broker.start();
    await withAdmin(s.kafka.brokers, (a) => createTopicsAndWait(a, [{ topic: 'doomed', numPartitions: 1 }]));
    const producer = new RecordProducer(s.kafka.brokers, 'it-doomed', 4000);
    await producer.connect();
    const ok = await producer.send('doomed', 'k', Buffer.from('before'));
    expect(ok.offset).toBe(0);

    broker.kill();

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
