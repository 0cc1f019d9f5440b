// The records, options and stats of a TransactionalProcessor (transactionalProcessor.ts),
// shared by the roles it is made of; callers import them from transactionalProcessor.ts.
import type Kafka from 'node-rdkafka';
import type { GroupOptions } from './rdkafkaConfig.ts';
import type { RestoreResult } from './changelogRestorer.ts';
import type { PartitionStore, StoreCodec } from './partitionStore.ts';
import type { LatencyHistogram } from '../protocols/http/latencyHistogram.ts';
import type { CheckpointOptions, CheckpointStats } from './stateCheckpointer.ts';

export interface InputRecord {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: Buffer | null;
  timestamp: number | undefined;
}

export interface OutputRecord {
  topic: string;
  key: string | null;
  value: Buffer | null;
  timestamp?: number;
}

/** A state store backed by a compacted changelog topic, partitioned like the input. */
export interface StoreSpec<V> {
  changelogTopic: string;
  encode(value: V): Buffer;
  decode(value: Buffer): V | Promise<V>;
  /**
   * Keep committed values as their changelog bytes and decode on read (partitionStore.ts):
   * `decode` for bytes `encode` wrote, `isCurrent` for changelog bytes that can be kept as
   * they are (others are decoded by `decode` above and encoded again).
   */
  compact?: Pick<StoreCodec<V>, 'decode' | 'isCurrent'>;
}

export interface ProcessContext<V> {
  /** The store partition of an input partition this member owns (restored before its records arrive). */
  store(partition: number): PartitionStore<V>;
  /** Input partitions whose stores are restored and live. */
  partitions(): number[];
}

export interface TransactionalProcessorOptions<V = never> extends GroupOptions {
  brokers: string;
  clientId: string;
  inputTopics: string[];
  /** Unique per member (a restarted member reuses its id so zombies are fenced). */
  transactionalId: string;
  process: (batch: InputRecord[], ctx: ProcessContext<V>) => Promise<OutputRecord[]> | OutputRecord[];
  store?: StoreSpec<V>;
  /** Called every `punctuateIntervalMs` (wall clock) in a transaction of its own: timers. */
  punctuate?: (nowMs: number, ctx: ProcessContext<V>) => Promise<OutputRecord[]> | OutputRecord[];
  punctuateIntervalMs?: number;
  /** Called when a partition's store has been restored, before its records are processed. */
  onRestored?: (r: RestoreResult) => void;
  /** Called after an aborted transaction's store writes were discarded (indexes built on them are stale). */
  onAborted?: () => void;
  /**
   * Graceful handover (a rebalance revokes partitions, or `stop()`): called with the
   * partitions about to be released, in a transaction of its own that commits before they
   * are, so the next owner restores its writes. Not called for partitions lost without a
   * handover (crash, session timeout): `afterRestore` on the new owner covers those.
   */
  onRevoking?: (partitions: number[], ctx: ProcessContext<V>) => Promise<OutputRecord[]> | OutputRecord[];
  /** Called when a partition's store is restored, in a transaction committed before its records are processed. */
  afterRestore?: (partition: number, ctx: ProcessContext<V>) => Promise<OutputRecord[]> | OutputRecord[];
  /** Local state checkpoints (stateCheckpointer.ts): a restore reads only the changelog after one. Absent: every restore reads it all. */
  checkpoints?: CheckpointOptions;
  maxBatch?: number;
  /**
   * With several input topics: how long a partition number's records wait for one of its
   * inputs whose end is not known yet, so they are applied in timestamp order across
   * batches (Kafka Streams' max.task.idle.ms); then they go anyway (counted in
   * `enforcedProcessing`). The next fetch response normally tells within fetch.wait.max.ms
   * (100 ms for these processors); the bound is for an input whose fetches stall. 0: no
   * waiting, order only among the records consumed. Default 10 s.
   */
  maxTaskIdleMs?: number;
  transactionTimeoutMs?: number;
  /**
   * How long batches may keep failing on a dependency outage (registry, database, broker)
   * before the processor stops with an error instead of retrying on (0: no limit). Nothing
   * is discarded either way: the failing batch is never committed, the next owner re-reads it.
   */
  maxOutageMs?: number;
  /**
   * A fenced producer or a fatal producer error is recovered in place (Kafka Streams'
   * "task migrated"): the member drops its stores' uncommitted state, makes a new producer
   * with the same transactional id, restores its partitions and goes on. At most this many
   * times within `producerRecoveryWindowMs` (default 3 in 10 min); one more stops the
   * processor with the reason, for its supervisor to restart. 0: stop at the first, as before.
   */
  maxProducerRecoveries?: number;
  producerRecoveryWindowMs?: number;
  /** Extra librdkafka producer settings (e.g. message.max.bytes for large state records). */
  producerConfig?: Kafka.ProducerGlobalConfig;
  /** Extra librdkafka consumer settings (e.g. a shorter fetch.wait.max.ms for latency). */
  consumerConfig?: Kafka.ConsumerGlobalConfig;
  /** Called with partitions newly assigned / about to be revoked (state restore hooks). */
  onAssigned?: (partitions: Kafka.TopicPartition[]) => void;
  onRevoked?: (partitions: Kafka.TopicPartition[]) => void;
  log?: (line: string) => void;
}

export interface ProcessorStats {
  records: number;
  restores: number;
  restoredRecords: number;
  /** Time spent reading changelogs, summed over restores (metrics: presence_event_manager_restore_seconds_total). */
  restoreMs: number;
  /** commitTransaction of committed transactions (the produced records' flush included): presence_event_manager_transaction_commit_seconds. */
  commitLatency: LatencyHistogram;
  outputs: number;
  transactions: number;
  aborts: number;
  /** Fenced or failed producers replaced in place, the partitions restored (metrics: presence_event_manager_producer_recoveries_total). */
  producerRecoveries: number;
  /** Partition numbers processed without waiting further for an input whose end was unknown (maxTaskIdleMs passed). */
  enforcedProcessing: number;
  lastError?: string;
  /** Local state checkpoints: loads, full-restore fallbacks by reason, writes (all 0 without them). */
  checkpoints: CheckpointStats;
}

/** The options with their defaults applied. */
export type ResolvedProcessorOptions<V> = Required<Pick<TransactionalProcessorOptions<V>, 'maxBatch' | 'transactionTimeoutMs'>> &
  TransactionalProcessorOptions<V>;
