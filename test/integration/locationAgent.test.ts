// The location agent between Kafka and a GMLC (issue 19, Le): location-requests
// in, MLP over HTTP to the test's MLP server on 127.0.0.1, positions out on
// signaling-events keyed by subscriber — and nothing out for a subscriber the
// GMLC does not know. Then the event manager's derivation applies the answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocationAgent } from '../../connectors/location-agent/locationAgent.ts';
import { LocationAgentLoop } from '../../connectors/location-agent/locationAgentLoop.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import type { LocationRequest, SignalingEvent } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { apply } from '../../streams/event-manager/presence/derive.ts';
import { MlpLocationQuery } from '../../taps/network-query/mlpLocationQuery.ts';
import { QueryGuard } from '../../taps/network-query/queryGuard.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { startMlpServer, type MlpServer } from '../support/mlpServer.ts';
import { readTopic } from '../support/topicReader.ts';

const s = isolatedSettings('location-agent', 2);
let gmlc: MlpServer;
let loop: LocationAgentLoop | undefined;
const at = new Date(Date.UTC(2026, 11, 6, 9, 0, 0));

beforeAll(async () => {
  gmlc = await startMlpServer();
  gmlc.answers.set('351910000001', { kind: 'point', latitude: 41.14961, longitude: -8.61099, time: at, method: 'A-GPS' });
  await applyIsolated(s);
}, 120_000);
afterAll(async () => {
  await loop?.stop();
  await gmlc.close();
  await cleanupIsolated(s);
}, 120_000);

const request = (subscriber: string, id: string): LocationRequest => ({
  requestId: id,
  subscriber,
  requestedAt: Date.now(),
  reason: 'watcher',
  maxLocationAgeS: 60,
  horizontalAccuracyM: 50,
});

describe('location agent over Kafka', () => {
  it('answers location-requests with positions on signaling-events, and a failure with nothing', async () => {
    const q = new MlpLocationQuery({ url: gmlc.url, clientId: 'it', password: null, horizontalAccuracyM: 500, maxLocationAgeS: 300 });
    loop = await LocationAgentLoop.start(s, new LocationAgent(new QueryGuard(q, { minIntervalMs: 60_000, timeoutMs: 2000 }), 'it-agent'));
    const serde = new RecordSerde(s.registry.url, s.topics.prefix);
    await serde.loadIds();
    const producer = new RecordProducer(s.kafka.brokers, 'it-location-requests');
    await producer.connect();
    const requests = topicName(s.topics.prefix, 'location-requests');
    for (const r of [request('msisdn:+351910000001', 'a'), request('msisdn:+351910000002', 'b')])
      await producer.send(requests, r.subscriber, serde.encode('location-requests', r));
    await producer.close();

    const got = await readTopic({
      brokers: s.kafka.brokers,
      topic: topicName(s.topics.prefix, 'signaling-events'),
      partitions: 2,
      count: 1,
      timeoutMs: 60_000,
      settleMs: 2000,
    });
    expect(got).toHaveLength(1); // the unknown subscriber gave no position
    expect(got[0]!.key!.toString()).toBe('msisdn:+351910000001');
    const e = (await serde.decode('signaling-events', got[0]!.value!)) as SignalingEvent;
    expect(e).toMatchObject({ protocol: 'mlp', message: 'slia', kind: 'result', location: { method: 'A-GPS', observedAt: at.getTime(), radiusMeters: null } });
    expect(gmlc.seen.map((x) => [x.msisdn, x.horizontalAccuracyM, x.maxLocationAgeS])).toEqual(
      expect.arrayContaining([
        ['351910000001', 50, 60],
        ['351910000002', 50, 60],
      ]),
    );
    expect(loop.stats).toMatchObject({ requests: 2, positions: 1, undecodable: 0 });
    const g = apply(undefined, e).state.geolocation!;
    expect([g.latitude, g.longitude].map((v) => v.toFixed(5))).toEqual(['41.14961', '-8.61099']);
  }, 120_000);
});
