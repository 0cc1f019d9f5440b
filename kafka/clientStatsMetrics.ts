// librdkafka's statistics (clientStats.ts) as Prometheus series, read from each
// client's latest document when scraped. librdkafka reports microseconds and
// bytes; the series are in seconds and bytes. `client` is librdkafka's handle
// name (client.id#consumer-N), unique in the process.
import type { Labels, MetricsRegistry } from '../protocols/http/metrics.ts';
import { clientStatsSnapshot, type RdkafkaBrokerStats, type RdkafkaPartitionStats, type RdkafkaStats, type RdkafkaWindow } from './clientStats.ts';

type Series = Array<[Labels, number]>;

const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function perClient(pick: (st: RdkafkaStats) => number | undefined): () => Series {
  return () => {
    const out: Series = [];
    for (const c of clientStatsSnapshot()) {
      const v = pick(c.stats);
      if (num(v)) out.push([{ client: c.name, type: c.stats.type ?? 'unknown' }, v]);
    }
    return out;
  };
}

/** Real brokers only: librdkafka also lists logical ones (GroupCoordinator, internal) with nodeid -1. */
function perBroker(pick: (b: RdkafkaBrokerStats) => Series | number | undefined): () => Series {
  return () => {
    const out: Series = [];
    for (const c of clientStatsSnapshot())
      for (const [key, b] of Object.entries(c.stats.brokers ?? {})) {
        if (!num(b.nodeid) || b.nodeid < 0) continue;
        const base = { client: c.name, broker: b.name ?? key };
        const v = pick(b);
        if (num(v)) out.push([base, v]);
        else if (Array.isArray(v)) for (const [l, n] of v) out.push([{ ...base, ...l }, n]);
      }
    return out;
  };
}

/** avg and p99 of a librdkafka window (microseconds) in seconds; an empty window (cnt 0) says nothing. */
function window(w: RdkafkaWindow | undefined): Series | undefined {
  if (!w || !w.cnt) return undefined;
  const out: Series = [];
  if (num(w.avg)) out.push([{ stat: 'avg' }, w.avg / 1e6]);
  if (num(w.p99)) out.push([{ stat: 'p99' }, w.p99 / 1e6]);
  return out;
}

/**
 * librdkafka's consumer_lag counts from the offset this consumer committed, but our processors
 * commit through their transactional producer (sendOffsetsToTransaction), which the consumer
 * never learns of: it stays -1 or frozen. The lag is the consumer's position (app_offset, else
 * the committed offset it started from) to the end it may read — the last stable offset for
 * read_committed consumers (all of ours), the high watermark otherwise.
 */
export function ownLag(ps: RdkafkaPartitionStats): number | undefined {
  const end = num(ps.ls_offset) && ps.ls_offset >= 0 ? ps.ls_offset : num(ps.hi_offset) && ps.hi_offset >= 0 ? ps.hi_offset : undefined;
  const pos = num(ps.app_offset) && ps.app_offset >= 0 ? ps.app_offset : num(ps.committed_offset) && ps.committed_offset >= 0 ? ps.committed_offset : undefined;
  if (end !== undefined && pos !== undefined) return Math.max(0, end - pos);
  return num(ps.consumer_lag) && ps.consumer_lag >= 0 ? ps.consumer_lag : undefined;
}

export function registerKafkaClientMetrics(m: MetricsRegistry): void {
  m.gauge(
    'presence_kafka_client_queued_messages',
    'Messages in the producer queue of a librdkafka client, waiting to be sent or acknowledged',
    perClient((st) => st.msg_cnt),
  );
  m.gauge(
    'presence_kafka_client_queued_bytes',
    'Bytes in the producer queue of a librdkafka client',
    perClient((st) => st.msg_size),
  );
  m.counter(
    'presence_kafka_client_transmitted_messages_total',
    'Messages a librdkafka client sent to brokers',
    perClient((st) => st.txmsgs),
  );
  m.counter(
    'presence_kafka_client_received_messages_total',
    'Messages a librdkafka client fetched from brokers',
    perClient((st) => st.rxmsgs),
  );
  m.gauge(
    'presence_kafka_broker_up',
    "1 while a librdkafka client's connection to a broker is UP",
    perBroker((b) => (b.state === 'UP' ? 1 : 0)),
  );
  m.gauge(
    'presence_kafka_broker_rtt_seconds',
    'Request round trip to a broker over the last statistics interval (stat: avg, p99)',
    perBroker((b) => window(b.rtt)),
  );
  m.gauge(
    'presence_kafka_broker_produce_latency_seconds',
    "Time produced messages wait in librdkafka's queue before they are sent to a broker (stat: avg, p99)",
    perBroker((b) => window(b.int_latency)),
  );
  m.gauge(
    'presence_kafka_broker_requests_waiting',
    'Requests sent to a broker and awaiting its response',
    perBroker((b) => b.waitresp_cnt),
  );
  m.gauge(
    'presence_kafka_broker_requests_queued',
    'Requests queued for sending to a broker',
    perBroker((b) => b.outbuf_cnt),
  );
  m.counter(
    'presence_kafka_broker_request_timeouts_total',
    'Requests to a broker that timed out',
    perBroker((b) => b.req_timeouts),
  );
  m.counter(
    'presence_kafka_broker_errors_total',
    'Transmission (tx) and receive (rx) errors on a broker connection',
    perBroker((b) => [
      [{ direction: 'tx' }, b.txerrs ?? 0],
      [{ direction: 'rx' }, b.rxerrs ?? 0],
    ]),
  );
  m.gauge('presence_kafka_consumer_lag', "A consumer's own lag per assigned partition: messages between its position and the partition's end", () => {
    const out: Series = [];
    for (const c of clientStatsSnapshot()) {
      if (c.stats.type !== 'consumer') continue;
      for (const [topic, t] of Object.entries(c.stats.topics ?? {}))
        for (const [p, ps] of Object.entries(t.partitions ?? {})) {
          if (Number(p) < 0) continue; // librdkafka's unassigned-messages bucket
          const lag = ownLag(ps);
          if (lag !== undefined) out.push([{ client: c.name, topic: t.topic ?? topic, partition: p }, lag]);
        }
    }
    return out;
  });
  m.counter(
    'presence_kafka_consumer_rebalances_total',
    'Rebalances a consumer took part in',
    perClient((st) => (st.type === 'consumer' ? st.cgrp?.rebalance_cnt : undefined)),
  );
  m.gauge(
    'presence_kafka_transaction_state',
    "1 for a transactional producer's current transaction state (state: Ready, InTransaction, CommittingTransaction, AbortableError, …)",
    () => {
      const out: Series = [];
      for (const c of clientStatsSnapshot()) {
        const state = c.stats.eos?.txn_state;
        if (state && state !== 'Init') out.push([{ client: c.name, state }, 1]);
      }
      return out;
    },
  );
}
