// Reads the compacted event-manager-members topic into a MemberTable: once to
// its end (`presence locate`), or following it (the SIP front end in
// redirect/proxy mode keeps a live view of who owns which partition).
import type { Settings } from '../config/settings.ts';
import { RecordSerde } from '../schemas/serde.ts';
import { topicName } from '../schemas/topology.ts';
import { partitionOf } from '../kafka/partitioner.ts';
import { CompactedTopicMirror } from '../kafka/compactedTopicMirror.ts';
import { asError } from '../kafka/rdkafkaPromises.ts';
import { MemberTable, staleAfterMs, type ReportedOwner } from './memberReports.ts';

/** The members topic could not be read (Kafka down, topic missing): HTTP 503. */
export class MemberReportsUnavailableError extends Error {
  override name = 'MemberReportsUnavailableError';
}

interface MemberReportsViewOptions {
  /** Keep reading after the end was reached (default false: stop there). */
  follow?: boolean;
  /** Default: three report intervals of the settings. */
  staleAfterMs?: number;
  /** How long reaching the end may take before open() fails. Default 15 s. */
  catchUpTimeoutMs?: number;
  serde?: RecordSerde;
  log?: (line: string) => void;
}

export class MemberReportsView {
  private mirror: CompactedTopicMirror | undefined;
  /** Records that did not decode (logged, skipped: one bad report must not blind the view). */
  get undecodable(): number {
    return this.mirror?.undecodable ?? 0;
  }

  private constructor(
    readonly table: MemberTable,
    private readonly subscriberPartitions: number,
  ) {}

  /** Reads the topic to its end; with `follow` keeps applying new reports until close(). */
  static async open(s: Settings, o: MemberReportsViewOptions = {}): Promise<MemberReportsView> {
    const topic = topicName(s.topics.prefix, 'event-manager-members');
    const serde = o.serde ?? new RecordSerde(s.registry.url, s.topics.prefix);
    const view = new MemberReportsView(new MemberTable(o.staleAfterMs ?? staleAfterMs(s.eventManager.memberReportIntervalS * 1000)), s.topics.partitions);
    try {
      view.mirror = await CompactedTopicMirror.open({
        brokers: s.kafka.brokers,
        topic,
        clientId: `member-reports-${process.pid}`,
        groupIdPrefix: `${s.topics.prefix}member-reports-${process.pid}-`,
        follow: o.follow ?? false,
        catchUpTimeoutMs: o.catchUpTimeoutMs ?? 15_000,
        fetchErrorBeforeCaughtUp: 'fail',
        connectTimeoutMs: 10_000,
        consumeTimeoutMs: 100,
        batchSize: 200,
        apply: async (memberId, value) => view.table.apply(memberId, value ? await serde.decode('event-manager-members', value) : null),
        ...(o.log ? { log: o.log } : {}),
      });
    } catch (err) {
      // Kafka down, topic missing, end not reached in time: the locator answers 503.
      throw new MemberReportsUnavailableError(asError(err).message);
    }
    return view;
  }

  ownerOf(partition: number, nowMs = Date.now()): ReportedOwner | null {
    return this.table.ownerOf(partition, nowMs);
  }

  /** The owner of a subscriber key's partition. */
  ownerOfKey(key: string, nowMs = Date.now()): ReportedOwner | null {
    return this.table.ownerOf(partitionOf(key, this.subscriberPartitions), nowMs);
  }

  async close(): Promise<void> {
    await this.mirror?.close();
  }
}
