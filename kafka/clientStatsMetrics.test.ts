import { afterEach, describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../protocols/http/metrics.ts';
import { seriesValue } from '../test/support/adminScrape.ts';
import {
  enableKafkaClientStats,
  parseStats,
  recordClientStats,
  resetClientStats,
  statisticsConfig,
  watchClientStats,
  type RdkafkaStats,
} from './clientStats.ts';
import { registerKafkaClientMetrics } from './clientStatsMetrics.ts';
import { EventEmitter } from 'node:events';

afterEach(() => {
  resetClientStats();
  enableKafkaClientStats(0);
});

/** Trimmed from a real librdkafka 2.x document (STATISTICS.md): microseconds, logical brokers with nodeid -1. */
const consumer: RdkafkaStats = {
  name: 'em-1#consumer-2',
  client_id: 'em-1',
  type: 'consumer',
  msg_cnt: 0,
  msg_size: 0,
  txmsgs: 0,
  rxmsgs: 120,
  brokers: {
    '127.0.0.1:9092/1': {
      name: '127.0.0.1:9092/1',
      nodeid: 1,
      state: 'UP',
      rtt: { avg: 2500, p99: 9000, cnt: 40 },
      int_latency: { cnt: 0 },
      outbuf_cnt: 0,
      waitresp_cnt: 1,
      txerrs: 0,
      rxerrs: 2,
      req_timeouts: 1,
    },
    GroupCoordinator: { name: 'GroupCoordinator', nodeid: -1, state: 'UP', rtt: { avg: 1, p99: 1, cnt: 1 } },
  },
  topics: {
    'presence.signaling-events': {
      topic: 'presence.signaling-events',
      partitions: {
        // Position 13 of a last stable offset 20; librdkafka's own consumer_lag is from a committed offset the transactional producer moved.
        '0': { partition: 0, consumer_lag: 19, app_offset: 13, committed_offset: 1, hi_offset: 21, ls_offset: 20 },
        // Nothing consumed yet: from the committed offset it starts at.
        '2': { partition: 2, consumer_lag: -1, app_offset: -1001, committed_offset: 5, hi_offset: 9, ls_offset: 9 },
        '1': { partition: 1, consumer_lag: -1, app_offset: -1001, committed_offset: -1001, hi_offset: -1, ls_offset: -1 },
        '-1': { partition: -1, consumer_lag: -1 },
      },
    },
  },
  cgrp: { state: 'up', rebalance_cnt: 3 },
};
const producer: RdkafkaStats = {
  name: 'em-1#producer-3',
  type: 'producer',
  msg_cnt: 4,
  msg_size: 800,
  txmsgs: 50,
  rxmsgs: 0,
  brokers: {
    '127.0.0.1:9092/1': {
      name: '127.0.0.1:9092/1',
      nodeid: 1,
      state: 'UP',
      rtt: { avg: 1000, p99: 3000, cnt: 5 },
      int_latency: { avg: 4000, p99: 12000, cnt: 50 },
    },
  },
  eos: { txn_state: 'InTransaction' },
};

describe('librdkafka statistics as metrics', () => {
  it('turns statistics.interval.ms on only when asked', () => {
    expect(statisticsConfig()).toEqual({});
    enableKafkaClientStats(1000);
    expect(statisticsConfig()).toEqual({ 'statistics.interval.ms': 1000 });
  });

  it('exposes broker round trips and produce latency in seconds, lag per partition, queues and transaction state', async () => {
    const m = new MetricsRegistry(false);
    registerKafkaClientMetrics(m);
    recordClientStats('em-1', consumer);
    recordClientStats('em-1', producer);
    const text = (await m.scrape()).body;
    const b = 'broker="127.0.0.1:9092/1"';
    expect(seriesValue(text, `presence_kafka_broker_rtt_seconds{client="em-1#consumer-2",${b},stat="avg"}`)).toBe(0.0025);
    expect(seriesValue(text, `presence_kafka_broker_rtt_seconds{client="em-1#consumer-2",${b},stat="p99"}`)).toBe(0.009);
    expect(seriesValue(text, `presence_kafka_broker_produce_latency_seconds{client="em-1#producer-3",${b},stat="avg"}`)).toBe(0.004);
    // An empty window says nothing rather than 0 s.
    expect(text).not.toContain('presence_kafka_broker_produce_latency_seconds{client="em-1#consumer-2"');
    // Logical brokers (nodeid -1) are not brokers.
    expect(text).not.toContain('GroupCoordinator');
    expect(seriesValue(text, `presence_kafka_broker_up{client="em-1#consumer-2",${b}}`)).toBe(1);
    expect(seriesValue(text, `presence_kafka_broker_errors_total{client="em-1#consumer-2",${b},direction="rx"}`)).toBe(2);
    expect(seriesValue(text, `presence_kafka_broker_request_timeouts_total{client="em-1#consumer-2",${b}}`)).toBe(1);
    expect(seriesValue(text, 'presence_kafka_consumer_lag{client="em-1#consumer-2",topic="presence.signaling-events",partition="0"}')).toBe(7);
    expect(seriesValue(text, 'presence_kafka_consumer_lag{client="em-1#consumer-2",topic="presence.signaling-events",partition="2"}')).toBe(4);
    // Unknown position or end, and librdkafka's unassigned partition -1, are left out.
    expect(text).not.toContain('partition="1"');
    expect(text).not.toContain('partition="-1"');
    expect(seriesValue(text, 'presence_kafka_consumer_rebalances_total{client="em-1#consumer-2",type="consumer"}')).toBe(3);
    expect(seriesValue(text, 'presence_kafka_client_queued_messages{client="em-1#producer-3",type="producer"}')).toBe(4);
    expect(seriesValue(text, 'presence_kafka_client_transmitted_messages_total{client="em-1#producer-3",type="producer"}')).toBe(50);
    expect(seriesValue(text, 'presence_kafka_transaction_state{client="em-1#producer-3",state="InTransaction"}')).toBe(1);
  });

  it("keeps a client's latest document from its event.stats and forgets it when the client disconnects", async () => {
    const m = new MetricsRegistry(false);
    registerKafkaClientMetrics(m);
    const client = new EventEmitter();
    watchClientStats(client, 'sink');
    client.emit('event.stats', { message: JSON.stringify({ ...producer, name: 'sink#producer-1', txmsgs: 1 }) });
    client.emit('event.stats', { message: '{"truncated' });
    client.emit('event.stats', { message: JSON.stringify({ ...producer, name: 'sink#producer-1', txmsgs: 9 }) });
    expect(seriesValue((await m.scrape()).body, 'presence_kafka_client_transmitted_messages_total{client="sink#producer-1",type="producer"}')).toBe(9);
    client.emit('disconnected');
    expect((await m.scrape()).body).not.toContain('sink#producer-1');
    expect(parseStats('not json')).toBeUndefined();
  });
});
