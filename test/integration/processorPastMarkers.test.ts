// A processor reading a transactionally written topic (the taps' signaling-events)
// commits past the transaction markers: each commit marker takes an offset after the
// last record, and "last record + 1" left the group a lag of 1 per partition for good,
// so "caught up" (lag 0: the demo, the broker-restart chaos test, the lag metrics)
// never came. Kafka Streams commits the consumer position likewise (KAFKA-6607).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { groupLag } from '../../kafka/groupLag.ts';
import { createTopicsAndWait, withAdmin } from '../../kafka/kafkaAdmin.ts';
import { TransactionalBatchProducer } from '../../kafka/transactionalBatches.ts';
import { TransactionalProcessor } from '../../kafka/transactionalProcessor.ts';
import { eventually } from '../support/wait.ts';

const s = loadSettings();
const prefix = `it-past-markers-${Date.now().toString(36)}.`;
const input = `${prefix}input`;
const P = 2;

beforeAll(() => withAdmin(s.kafka.brokers, (a) => createTopicsAndWait(a, [{ topic: input, numPartitions: P }])));
afterAll(() => withAdmin(s.kafka.brokers, (a) => a.deleteTopics({ topics: [input] })).catch(() => {}));

describe('processor reading a transactional topic', () => {
  it('reaches lag 0: it commits past the commit marker that ends the last transaction', async () => {
    const writer = new TransactionalBatchProducer({ brokers: s.kafka.brokers, clientId: 'it-past-markers', transactionalId: `${prefix}writer` });
    await writer.connect();
    for (let i = 0; i < 40; i++) writer.send({ topic: input, key: Buffer.from(`k${i}`), value: Buffer.from(String(i)), timestamp: Date.now() });
    await writer.close();

    let seen = 0;
    const member = new TransactionalProcessor<number>({
      brokers: s.kafka.brokers,
      clientId: 'it-past-markers-member',
      groupId: `${prefix}group`,
      inputTopics: [input],
      transactionalId: `${prefix}member`,
      process: (batch) => {
        seen += batch.length;
        return [];
      },
    });
    await member.start();
    try {
      let last: unknown;
      const lags = await eventually(
        () => `lag 0 on ${input} (records processed: ${seen}; last lag: ${JSON.stringify(last)})`,
        async () => {
          const l = await groupLag(s.kafka.brokers, `${prefix}group`, [input]);
          last = l;
          return seen === 40 && l.every((p) => p.lag === 0) ? l : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      // The ends are past the records: the markers are there, and committed past.
      expect(lags.reduce((n, p) => n + p.end, 0)).toBeGreaterThan(40);
    } finally {
      await member.stop();
    }
  });
});
