// An aborted batch is re-read from its first offsets: when that rewind fails for
// a partition the member still owns (librdkafka's seek timing out under load),
// going on would skip the aborted records for good. The processor must stop
// with the reason instead. The seek failure is injected; Kafka is real.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { createTopicsAndWait, withAdmin } from '../../kafka/kafkaAdmin.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { TransactionalProcessor } from '../../kafka/transactionalProcessor.ts';
import { sleep } from '../support/wait.ts';

const seekFailures = { left: 0 };
vi.mock('../../kafka/rdkafkaPromises.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../kafka/rdkafkaPromises.ts')>();
  return {
    ...real,
    seek: (...args: Parameters<typeof real.seek>) => {
      if (seekFailures.left > 0) {
        seekFailures.left--;
        return Promise.reject(new Error('Local: Timed out'));
      }
      return real.seek(...args);
    },
  };
});

const s = loadSettings();
const prefix = `it-rewind-${Date.now().toString(36)}.`;
const [input, output] = [`${prefix}input`, `${prefix}output`];
afterAll(async () => {
  await withAdmin(s.kafka.brokers, (a) => a.deleteTopics({ topics: [input, output] })).catch(() => {});
});

describe('rewind after an abort', () => {
  it('stops the processor when the aborted records cannot be re-read, rather than skipping them', async () => {
    await withAdmin(s.kafka.brokers, (a) =>
      createTopicsAndWait(a, [
        { topic: input, numPartitions: 1 },
        { topic: output, numPartitions: 1 },
      ]),
    );
    const producer = new RecordProducer(s.kafka.brokers, 'it-rewind', 15_000);
    await producer.connect();
    let failNext = true;
    const processed: string[] = [];
    const p = new TransactionalProcessor({
      brokers: s.kafka.brokers,
      clientId: 'it-rewind',
      groupId: `${prefix}group`,
      protocol: 'classic',
      inputTopics: [input],
      transactionalId: `${prefix}tx`,
      process: (batch) => {
        if (failNext) {
          failNext = false;
          seekFailures.left = 1; // the rewind after this abort fails
          throw new Error('injected failure');
        }
        processed.push(...batch.map((r) => r.value!.toString()));
        return batch.map((r) => ({ topic: output, key: r.key, value: r.value }));
      },
    });
    try {
      await p.start();
      for (let i = 0; i < 5; i++) await producer.send(input, 'k', Buffer.from(`a${i}`));
      await sleep(1000);
      for (let i = 0; i < 5; i++) await producer.send(input, 'k', Buffer.from(`b${i}`));
      const outcome = await Promise.race([
        p.done().then(
          () => 'ended cleanly',
          (e: Error) => e.message,
        ),
        sleep(15_000).then(() => `still running, processed ${processed.join(',')}`),
      ]);
      expect(outcome).toMatch(/could not rewind .*input\[0\] to 0 after an aborted batch: Local: Timed out/);
    } finally {
      await p.stop();
      await producer.close();
    }
  }, 60_000);
});
