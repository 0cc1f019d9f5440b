// The compacted-topic mirror against the real broker: open() must resolve
// once every partition was read up to where it ended when open() began, even
// while a writer keeps appending to one partition. librdkafka signals a
// partition's end only on an empty fetch at the high watermark, which a writer
// faster than fetch.wait.max.ms never lets happen (the coordinator's read of
// event-manager-members failed so in CI while a member reported every 500 ms).
import { afterAll, describe, expect, it, vi } from 'vitest';
import { CompactedTopicMirror } from '../../kafka/compactedTopicMirror.ts';
import { createTopicsAndWait, kafkaFor, withAdmin } from '../../kafka/kafkaAdmin.ts';
import { cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';

/** Armed: the next lookups of a partition's end fail, as they did in a loaded CI run (a new client's metadata not there yet). */
const failingEndLookups = { left: 0 };
vi.mock('../../kafka/assignedConsumer.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../kafka/assignedConsumer.ts')>();
  return {
    ...real,
    highWatermark: async (...args: Parameters<typeof real.highWatermark>) => {
      if (args[2] === 0 && failingEndLookups.left > 0) {
        failingEndLookups.left--;
        throw new Error('Local: Unknown partition (injected)');
      }
      return real.highWatermark(...args);
    },
  };
});

const s = isolatedSettings('mirror');
afterAll(() => cleanupIsolated(s));

describe('CompactedTopicMirror', () => {
  it('reaches the end of a partition that a writer keeps appending to', () => openWhileWriting(`${s.topics.prefix}reports`), 60_000);

  it('reaches it too when looking up where that partition ends fails at first (asked again, not left to an end-of-partition event that never comes)', () => {
    failingEndLookups.left = 2;
    return openWhileWriting(`${s.topics.prefix}reports-2`);
  }, 60_000);

  it('reaches it too when the lookups fail for longer than half the catch-up time (reading starts, the lookup goes on beside it)', () => {
    failingEndLookups.left = 60; // ~12 s of failed lookups, 200 ms apart: past the 10 s open() waits before reading
    return openWhileWriting(`${s.topics.prefix}reports-3`);
  }, 60_000);
});

async function openWhileWriting(topic: string): Promise<void> {
  await withAdmin(s.kafka.brokers, (a) => createTopicsAndWait(a, [{ topic, numPartitions: 3, replicationFactor: 1 }]));
  const producer = kafkaFor(s.kafka.brokers).producer();
  await producer.connect();
  let writing = true;
  let written = 0;
  const writer = (async () => {
    // Bounded: stops when the test says so, or after 30 s at the latest.
    const until = Date.now() + 30_000;
    while (writing && Date.now() < until) {
      await producer.send({ topic, messages: [{ partition: 0, key: 'member-1', value: String(written++) }] });
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  try {
    await producer.send({ topic, messages: [{ partition: 1, key: 'member-2', value: 'x' }] });
    await new Promise((r) => setTimeout(r, 500));
    const before = written;
    const seen = new Map<string, string>();
    const mirror = await CompactedTopicMirror.open({
      brokers: s.kafka.brokers,
      topic,
      clientId: 'it-mirror',
      groupIdPrefix: `${s.topics.prefix}mirror-`,
      // Generous: the suite runs three files at once on two cores, and a loaded run took over 10 s.
      catchUpTimeoutMs: 20_000,
      apply: (key, value) => void seen.set(key, value?.toString() ?? ''),
    });
    expect(mirror.caughtUp).toBe(true);
    expect(seen.get('member-2')).toBe('x');
    // Everything written before open() began was read.
    expect(Number(seen.get('member-1'))).toBeGreaterThanOrEqual(before - 1);
  } finally {
    writing = false;
    await writer;
    await producer.disconnect();
  }
}
