// Stream time across co-partitioned inputs (issue 12, defect 10), on the real broker:
// a member consuming two topics of one partition number applies their records in
// timestamp order (Kafka Streams' PartitionGroup), not in the order the fetch returned
// them, so a SUBSCRIBE stamped later cannot run ahead of older signaling fetched with it.
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { createTopicsAndWait, withAdmin } from '../../kafka/kafkaAdmin.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { TransactionalProcessor, type InputRecord } from '../../kafka/transactionalProcessor.ts';
import { eventually } from '../support/wait.ts';

const s = loadSettings();
const prefix = `it-streamtime-${Date.now().toString(36)}.`;
const [signaling, subscriptions] = [`${prefix}signaling`, `${prefix}subscriptions`];
const [backlog, lateSubscriptions] = [`${prefix}backlog`, `${prefix}late-subscriptions`];
afterAll(async () => {
  await withAdmin(s.kafka.brokers, (a) => a.deleteTopics({ topics: [signaling, subscriptions, backlog, lateSubscriptions] })).catch(() => {});
});

/**
 * Creates `topics` (one partition each), writes with `write`, then runs a processor of both
 * (batches of `maxBatch`) until it has processed `count` records: what it saw, in order.
 */
async function processedInOrder(
  name: string,
  topics: [string, string],
  write: (producer: RecordProducer) => Promise<void>,
  maxBatch: number,
  count: number,
): Promise<InputRecord[]> {
  await withAdmin(s.kafka.brokers, (a) =>
    createTopicsAndWait(
      a,
      topics.map((topic) => ({ topic, numPartitions: 1 })),
    ),
  );
  const producer = new RecordProducer(s.kafka.brokers, `it-${name}`, 15_000);
  await producer.connect();
  const seen: InputRecord[] = [];
  const p = new TransactionalProcessor({
    brokers: s.kafka.brokers,
    clientId: `it-${name}`,
    groupId: `${prefix}${name}-group`,
    inputTopics: topics,
    transactionalId: `${prefix}${name}-tx`,
    maxBatch,
    process: (batch) => {
      seen.push(...batch);
      return [];
    },
  });
  try {
    await write(producer);
    await p.start();
    await eventually(`the ${count} records to be processed`, () => seen.length >= count, { timeoutMs: 60_000 });
    const stamps = seen.map((r) => r.timestamp!);
    expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
    return seen;
  } finally {
    await p.stop();
    await producer.close();
  }
}

describe('stream time order', () => {
  it('takes the records of co-partitioned inputs in timestamp order within a batch', async () => {
    const t0 = Date.now() - 60_000;
    const seen = await processedInOrder(
      'streamtime',
      [signaling, subscriptions],
      async (producer) => {
        // Interleaved in time, written topic by topic (as two taps and a front end do).
        for (let i = 0; i < 10; i++) await producer.send(subscriptions, 'k', Buffer.from(`sub${i}`), t0 + 2 * i * 1000 + 1000);
        for (let i = 0; i < 10; i++) await producer.send(signaling, 'k', Buffer.from(`sig${i}`), t0 + 2 * i * 1000);
      },
      100,
      20,
    );
    expect(seen.map((r) => r.value!.toString()).slice(0, 4)).toEqual(['sig0', 'sub0', 'sig1', 'sub1']);
  }, 90_000);

  it('waits across batches for an input that is behind: older signaling fetched later still goes first', async () => {
    const t0 = Date.now() - 600_000;
    // A signaling backlog of 400 records (a replay, or a tap catching up) and one SUBSCRIBE
    // stamped in its middle: consumed 20 at a time, the SUBSCRIBE comes in the first batches,
    // most of the older signaling only in later ones.
    const seen = await processedInOrder(
      'streamtime-backlog',
      [backlog, lateSubscriptions],
      async (producer) => {
        const pending: Array<Promise<unknown>> = [];
        for (let i = 0; i < 400; i++) pending.push(producer.send(backlog, 'k', Buffer.from(`sig${i}`), t0 + i * 1000));
        await Promise.all(pending);
        await producer.send(lateSubscriptions, 'k', Buffer.from('sub'), t0 + 200_500);
      },
      20,
      401,
    );
    const values = seen.map((r) => r.value!.toString());
    expect(values.indexOf('sub')).toBe(201);
    expect(values[200]).toBe('sig200');
  }, 90_000);
});
