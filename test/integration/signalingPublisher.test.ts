// The taps' publisher against the real broker: a window far smaller than the
// load must still deliver everything (back-pressure, not a stall or a loss).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignalingPublisher } from '../../taps/signalingPublisher.ts';
import { partitionOf } from '../../kafka/partitioner.ts';
import type { SignalingEvent } from '../../schemas/generated/records.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { readTopic } from '../support/topicReader.ts';

const s = isolatedSettings('publisher', 2);
beforeAll(() => applyIsolated(s));
afterAll(() => cleanupIsolated(s));

const event = (i: number): SignalingEvent => ({
  eventId: `pub/${i}`,
  time: 1_700_000_000_000 + i,
  subscriber: `imsi:00101000000${String(i % 97).padStart(4, '0')}`,
  identities: { imsi: `00101000000${String(i % 97).padStart(4, '0')}`, msisdn: null, aor: null },
  protocol: 'map',
  message: 'updateLocation',
  kind: 'invoke',
  source: { tap: 'test', capture: null, frame: i },
  map: null,
  isup: null,
  location: null,
  sip: null,
  messaging: null,
});

describe('signaling publisher', () => {
  it('delivers 3,000 events through a window of 64 in-flight records', async () => {
    const p = new SignalingPublisher(s, 'it-publisher', 64);
    await p.connect();
    for (let i = 0; i < 3000; i++) await p.publish(event(i));
    await p.close();
    expect(p.stats.events).toBe(3000);
    const got = await readTopic({
      brokers: s.kafka.brokers,
      topic: topicName(s.topics.prefix, 'signaling-events'),
      partitions: 2,
      count: 3000,
      settleMs: 1000,
    });
    expect(got).toHaveLength(3000);
    // Java's murmur2 placement (what kafkajs, Java and Connect compute), not librdkafka's CRC32 default.
    for (const m of got) expect(m.partition, m.key!.toString()).toBe(partitionOf(m.key!.toString(), 2));
  });
});
