// A capture replayed long after it was taken stays readable for the topic's whole
// retention. The broker's time-based retention looks at record timestamps: had the tap
// stamped each record with its capture time (2005 here, past signaling-events' 7 days),
// the broker's next retention check (every 5 minutes by default) would delete the
// replayed records, read or not — the event manager would never derive a presence from
// them. A private broker that checks every 500 ms makes that check happen during the test.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyTopology } from '../../kafka/applyTopology.ts';
import { createTopicsAndWait, withAdmin } from '../../kafka/kafkaAdmin.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { topicName } from '../../schemas/topology.ts';
import { replayCaptures } from '../../taps/replay/replayCaptures.ts';
import { capture, haveCaptures, noCapturesReason } from '../support/captures.ts';
import { cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';
import { privateBroker } from '../support/privateBroker.ts';
import { readTopic } from '../support/topicReader.ts';
import { eventually, sleep } from '../support/wait.ts';

const PARTITIONS = 2;
const broker = privateBroker('replay-retention', 19_492, isolatedSettings('replay-retention', PARTITIONS), {
  'log.retention.check.interval.ms': 500,
});
const s = broker.settings;
const CAPTURE = 'sip/register-invite-udp.pcap'; // taken on 2005-07-04
const WEEK_MS = 7 * 24 * 3600_000;

beforeAll(async () => {
  await broker.start();
  await applyTopology(s);
}, 120_000);

afterAll(async () => {
  await cleanupIsolated(s);
  await broker.remove();
});

describe.skipIf(!haveCaptures)(`replay of an old capture (${haveCaptures ? '' : noCapturesReason})`, () => {
  it('keeps every replayed record past the broker’s retention checks', async () => {
    // The control: a record stamped in 2005 on a topic of the same retention is deleted within seconds.
    await withAdmin(s.kafka.brokers, (a) =>
      createTopicsAndWait(a, [{ topic: 'old-stamp', numPartitions: 1, configEntries: [{ name: 'retention.ms', value: String(WEEK_MS) }] }]),
    );
    const producer = new RecordProducer(s.kafka.brokers, 'it-replay-retention');
    await producer.connect();
    await producer.send('old-stamp', 'k', Buffer.from('taken in 2005'), Date.UTC(2005, 6, 4));
    await producer.close();
    // Deleted: the partition's log now starts past it.
    await eventually(
      'the broker deleting the record stamped in 2005',
      () => withAdmin(s.kafka.brokers, async (a) => (await a.fetchTopicOffsets('old-stamp'))[0]?.low === '1'),
      { timeoutMs: 30_000, intervalMs: 500 },
    );

    const summary = await replayCaptures(s, [capture(CAPTURE)], { speed: Infinity, unknown: 'keep', directory: undefined });
    expect(summary.events).toBeGreaterThan(0);
    await sleep(3000); // six retention checks
    const records = await readTopic({
      brokers: s.kafka.brokers,
      topic: topicName(s.topics.prefix, 'signaling-events'),
      partitions: PARTITIONS,
      count: summary.events,
      timeoutMs: 10_000,
    });
    expect(records).toHaveLength(summary.events);
  });
});
