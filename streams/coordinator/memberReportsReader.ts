// Reads the compacted event-manager-members topic into a MemberTable: once to
// its end (`presence locate`), or following it (the SIP front end in
// redirect/proxy mode keeps a live view of who owns which partition).
import Kafka from 'node-rdkafka';
import type { Settings } from '../../config/settings.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { partitionsOf, topicName, topicSpec } from '../../schemas/topology.ts';
import { partitionOf } from '../runtime/partitioner.ts';
import { asError, connectConsumer, consumeBatch, disconnect, type Consumer } from '../runtime/rdkafkaPromises.ts';
import { MemberTable, staleAfterMs, type ReportedOwner } from './memberReports.ts';

/** The members topic could not be read (Kafka down, topic missing): HTTP 503. */
export class MemberReportsUnavailableError extends Error {
  override name = 'MemberReportsUnavailableError';
}

export interface MemberReportsViewOptions {
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
  private running = true;
  private loop: Promise<void> | undefined;
  /** Records that did not decode (logged, skipped: one bad report must not blind the view). */
  undecodable = 0;

  private constructor(
    readonly table: MemberTable,
    private readonly consumer: Consumer,
    private readonly subscriberPartitions: number,
  ) {}

  /** Reads the topic to its end; with `follow` keeps applying new reports until close(). */
  static async open(s: Settings, o: MemberReportsViewOptions = {}): Promise<MemberReportsView> {
    const topic = topicName(s.topics.prefix, 'event-manager-members');
    const partitions = partitionsOf(topicSpec('event-manager-members'), s.topics.partitions);
    const serde = o.serde ?? new RecordSerde(s.registry.url, s.topics.prefix);
    const consumer = new Kafka.KafkaConsumer(
      { 'metadata.broker.list': s.kafka.brokers, 'group.id': `member-reports-${process.pid}-${Date.now()}`, 'enable.auto.commit': false, 'enable.partition.eof': true },
      { 'auto.offset.reset': 'earliest' },
    );
    try {
      await connectConsumer(consumer, 10_000);
    } catch (err) {
      throw new MemberReportsUnavailableError(`could not read ${topic} at ${s.kafka.brokers}: ${asError(err).message}`);
    }
    const view = new MemberReportsView(new MemberTable(o.staleAfterMs ?? staleAfterMs(s.eventManager.memberReportIntervalS * 1000)), consumer, s.topics.partitions);
    const atEnd = new Set<number>();
    consumer.on('partition.eof', (e: { partition: number }) => atEnd.add(e.partition));
    consumer.setDefaultConsumeTimeout(100);
    consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: -2 })));
    const deadline = Date.now() + (o.catchUpTimeoutMs ?? 15_000);
    let caughtUp!: () => void;
    let failed!: (e: Error) => void;
    const ready = new Promise<void>((res, rej) => ((caughtUp = res), (failed = rej)));
    let isReady = false;
    view.loop = (async () => {
      while (view.running) {
        let batch: Kafka.Message[];
        try {
          batch = await consumeBatch(consumer, 200);
        } catch (err) {
          if (!isReady) return failed(new MemberReportsUnavailableError(`reading ${topic} failed: ${asError(err).message}`));
          o.log?.(`reading ${topic} failed, retrying: ${asError(err).message}`);
          await new Promise((r) => setTimeout(r, 1000));
          continue;
        }
        for (const m of batch) {
          const memberId = m.key?.toString();
          if (!memberId) continue;
          try {
            view.table.apply(memberId, m.value ? await serde.decode('event-manager-members', m.value) : null);
          } catch (err) {
            view.undecodable++;
            o.log?.(`skipping undecodable member report ${topic}[${m.partition}]@${m.offset}: ${asError(err).message}`);
          }
        }
        if (!isReady && atEnd.size >= partitions) {
          isReady = true;
          caughtUp();
          if (!o.follow) return;
        }
        if (!isReady && Date.now() > deadline) return failed(new MemberReportsUnavailableError(`timed out reading ${topic} to its end at ${s.kafka.brokers} (does the topic exist? run \`presence topics apply\`)`));
      }
    })();
    try {
      await ready;
    } catch (err) {
      await view.close();
      throw err;
    }
    if (!o.follow) await view.close();
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
    if (!this.running) return;
    this.running = false;
    await this.loop?.catch(() => {});
    await disconnect(this.consumer).catch(() => {});
  }
}
