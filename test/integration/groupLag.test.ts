// groupLag against the real broker: what a group has committed, per partition,
// against the partitions' ends, including partitions it never committed on.
import { afterAll, describe, expect, it } from 'vitest';
import { groupLag, totalLag } from '../../kafka/groupLag.ts';
import { createTopicsAndWait, kafkaFor, withAdmin } from '../../kafka/kafkaAdmin.ts';
import { cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';

const s = isolatedSettings('grouplag');
const topic = `${s.topics.prefix}input`;
const groupId = `${s.topics.prefix}group`;
afterAll(() => cleanupIsolated(s));

describe('groupLag', () => {
  it('counts the records past the committed offset, and from the log start where nothing is committed', async () => {
    // createTopicsAndWait, not kafkajs' waitForLeaders: that fails on a metadata answer that does not know the new topic yet.
    await withAdmin(s.kafka.brokers, (a) => createTopicsAndWait(a, [{ topic, numPartitions: 2, replicationFactor: 1 }]));
    const producer = kafkaFor(s.kafka.brokers).producer();
    await producer.connect();
    try {
      const records = (partition: number, n: number) => Array.from({ length: n }, (_, i) => ({ partition, key: `k${i}`, value: String(i) }));
      await producer.send({ topic, messages: [...records(0, 10), ...records(1, 3)] });
    } finally {
      await producer.disconnect();
    }
    expect(await totalLag(s.kafka.brokers, groupId, [topic])).toBe(13);

    await withAdmin(s.kafka.brokers, (a) => a.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '4' }] }));
    const lag = await groupLag(s.kafka.brokers, groupId, [topic]);
    expect(lag.sort((a, b) => a.partition - b.partition)).toEqual([
      { topic, partition: 0, committed: 4, end: 10, lag: 6 },
      { topic, partition: 1, committed: -1, end: 3, lag: 3 },
    ]);

    await withAdmin(s.kafka.brokers, (a) =>
      a.setOffsets({
        groupId,
        topic,
        partitions: [
          { partition: 0, offset: '10' },
          { partition: 1, offset: '3' },
        ],
      }),
    );
    expect(await totalLag(s.kafka.brokers, groupId, [topic])).toBe(0);
  }, 60_000);
});
