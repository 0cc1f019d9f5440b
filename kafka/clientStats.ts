// librdkafka's own statistics (statistics.interval.ms → 'event.stats', a JSON
// document per client per interval: brokers, topics, partitions, transactions)
// kept per client, so the admin port can expose them (kafka/clientStatsMetrics.ts).
// Process-wide like the log sink (clientLog.ts): the CLI turns them on before
// any client is built when the role's admin port is open; off otherwise, since
// librdkafka then builds the JSON for nobody.

/** The parts of librdkafka's STATISTICS.md document we expose (all optional: versions differ). */
export interface RdkafkaWindow {
  avg?: number;
  p99?: number;
  cnt?: number;
}
export interface RdkafkaBrokerStats {
  name?: string;
  nodeid?: number;
  state?: string;
  rtt?: RdkafkaWindow;
  int_latency?: RdkafkaWindow;
  outbuf_cnt?: number;
  waitresp_cnt?: number;
  tx?: number;
  txerrs?: number;
  rx?: number;
  rxerrs?: number;
  req_timeouts?: number;
  connects?: number;
  disconnects?: number;
}
export interface RdkafkaPartitionStats {
  partition?: number;
  consumer_lag?: number;
  consumer_lag_stored?: number;
  app_offset?: number;
  committed_offset?: number;
  hi_offset?: number;
  ls_offset?: number;
  msgq_cnt?: number;
  xmit_msgq_cnt?: number;
  fetch_state?: string;
}
export interface RdkafkaStats {
  name?: string;
  client_id?: string;
  type?: 'producer' | 'consumer';
  ts?: number;
  msg_cnt?: number;
  msg_size?: number;
  msg_max?: number;
  txmsgs?: number;
  rxmsgs?: number;
  brokers?: Record<string, RdkafkaBrokerStats>;
  topics?: Record<string, { topic?: string; partitions?: Record<string, RdkafkaPartitionStats> }>;
  eos?: { txn_state?: string; idemp_state?: string; txn_may_enq?: boolean };
  cgrp?: { state?: string; join_state?: string; rebalance_cnt?: number; assignment_size?: number };
}

let intervalMs = 0;
/** Latest document per librdkafka handle name (client.id#type-N: unique per client in the process). */
const latest = new Map<string, { clientId: string; stats: RdkafkaStats; at: number }>();

/** Turns statistics on for every client built afterwards (0: off). */
export function enableKafkaClientStats(ms: number): void {
  intervalMs = ms;
}

export function kafkaClientStatsInterval(): number {
  return intervalMs;
}

/** The librdkafka property, merged into every producer and consumer config (rdkafkaConfig.ts). */
export function statisticsConfig(): Record<string, number> {
  return intervalMs > 0 ? { 'statistics.interval.ms': intervalMs } : {};
}

interface StatsEmitter {
  on(event: 'event.stats', listener: (e: { message: string }) => void): unknown;
  on(event: 'disconnected', listener: () => void): unknown;
}

/** Keeps the client's latest statistics; forgotten when it disconnects (a closed client's lag is no lag). */
export function watchClientStats(client: StatsEmitter, clientId: string): void {
  let name: string | undefined;
  client.on('event.stats', (e) => {
    const stats = parseStats(e.message);
    if (!stats) return;
    name = stats.name ?? clientId;
    latest.set(name, { clientId, stats, at: Date.now() });
  });
  client.on('disconnected', () => {
    if (name) latest.delete(name);
  });
}

export function parseStats(message: string): RdkafkaStats | undefined {
  try {
    const v = JSON.parse(message) as unknown;
    return v && typeof v === 'object' ? (v as RdkafkaStats) : undefined;
  } catch {
    return undefined; // a truncated document is skipped: the next interval brings a whole one
  }
}

/** Each live client's latest document. */
export function clientStatsSnapshot(): Array<{ name: string; clientId: string; stats: RdkafkaStats; at: number }> {
  return [...latest].map(([name, v]) => ({ name, ...v }));
}

/** For tests: records a document as if a client had emitted it. */
export function recordClientStats(clientId: string, stats: RdkafkaStats): void {
  latest.set(stats.name ?? clientId, { clientId, stats, at: Date.now() });
}

export function resetClientStats(): void {
  latest.clear();
}
