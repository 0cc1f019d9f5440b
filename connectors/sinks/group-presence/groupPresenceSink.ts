// The group presence table sink: consumes the compacted group-presence topic
// (read_committed: only what the group presence processor committed) and
// keeps the PostgreSQL table group_presence current.
//
// At-least-once with an idempotent write: each batch is applied in one
// database transaction, then its offsets are committed. A crash in between
// re-reads the batch, and the version check (only newer versions win) makes
// the second write a no-op. Undecodable records go to dead-letters.
import Kafka from 'node-rdkafka';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Settings } from '../../../config/settings.ts';
import type { GroupPresence } from '../../../schemas/generated/records.ts';
import { RecordSerde } from '../../../schemas/serde.ts';
import { topicName } from '../../../schemas/topology.ts';
import { deadLetter } from '../../../kafka/deadLetters.ts';
import { classifyError, isOutage } from '../../../kafka/errorClass.ts';
import { consumerConfig, consumerTopicConfig } from '../../../kafka/rdkafkaConfig.ts';
import { asError, connectConsumer, consumeBatch, disconnect, type Consumer, type Message } from '../../../kafka/rdkafkaPromises.ts';
import { RecordProducer } from '../../../kafka/recordProducer.ts';
import type { GroupPresenceTable } from './groupPresenceTable.ts';
import { routeClientLog } from '../../../kafka/clientLog.ts';

const GROUP_PRESENCE_SINK_GROUP = 'group-presence-sink';
const COMPONENT = 'group-presence-sink';

interface GroupPresenceSinkStats {
  consumed: number;
  stored: number;
  stale: number;
  deleted: number;
  deadLetters: number;
  batches: number;
  /** Batches the database did not take (retried). */
  failures: number;
}

interface GroupPresenceSinkOptions {
  readonly groupId?: string;
  readonly clientId?: string;
  readonly maxBatch?: number;
  readonly log?: (line: string) => void;
}

const keyOf = (m: Message) => (m.key === undefined || m.key === null ? undefined : Buffer.isBuffer(m.key) ? m.key.toString('utf8') : String(m.key));

export class GroupPresenceSink {
  readonly stats: GroupPresenceSinkStats = { consumed: 0, stored: 0, stale: 0, deleted: 0, deadLetters: 0, batches: 0, failures: 0 };
  private running = false;
  private loop: Promise<void> | undefined;

  private constructor(
    private readonly consumer: Consumer,
    private readonly producer: RecordProducer,
    private readonly serde: RecordSerde,
    readonly table: GroupPresenceTable,
    readonly topic: string,
    private readonly deadLetterTopic: string,
    private readonly o: GroupPresenceSinkOptions,
  ) {}

  static async start(s: Settings, table: GroupPresenceTable, o: GroupPresenceSinkOptions = {}): Promise<GroupPresenceSink> {
    const serde = new RecordSerde(s.registry.url, s.topics.prefix);
    await serde.loadIds();
    await table.migrate();
    const clientId = o.clientId ?? `group-presence-sink-${os.hostname()}-${process.pid}`;
    const producer = new RecordProducer(s.kafka.brokers, clientId, 15_000);
    await producer.connect();
    const consumer: Consumer = new Kafka.KafkaConsumer(
      // Not co-partitioned with anything: any assignment of the group partitions will do.
      consumerConfig({ brokers: s.kafka.brokers, clientId }, { groupId: o.groupId ?? `${s.topics.prefix}${GROUP_PRESENCE_SINK_GROUP}`, protocol: 'consumer' }),
      consumerTopicConfig,
    );
    routeClientLog(consumer, clientId);
    try {
      await connectConsumer(consumer).catch((e) => {
        throw new Error(`group presence sink could not connect to Kafka at ${s.kafka.brokers}: ${asError(e).message}`);
      });
    } catch (err) {
      await producer.close();
      throw err;
    }
    const sink = new GroupPresenceSink(
      consumer,
      producer,
      serde,
      table,
      topicName(s.topics.prefix, 'group-presence'),
      topicName(s.topics.prefix, 'dead-letters'),
      o,
    );
    consumer.setDefaultConsumeTimeout(200);
    consumer.subscribe([sink.topic]);
    sink.running = true;
    sink.loop = sink.run();
    sink.loop.catch(() => {}); // reported through done(), not as an unhandled rejection
    return sink;
  }

  /** Resolves when the consume loop ends. */
  done(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  private async run(): Promise<void> {
    while (this.running) {
      let batch: Message[];
      try {
        batch = await consumeBatch(this.consumer, this.o.maxBatch ?? 500);
      } catch (err) {
        if (!this.running) return;
        this.o.log?.(`reading ${this.topic} failed, retrying: ${asError(err).message}`);
        await sleep(1000);
        continue;
      }
      if (batch.length === 0) continue;
      // The database may be down: keep the batch and retry it (nothing is committed meanwhile).
      for (let delay = 500; this.running; delay = Math.min(delay * 2, 10_000)) {
        try {
          await this.applyBatch(batch);
          break;
        } catch (err) {
          this.stats.failures++;
          this.o.log?.(`storing ${batch.length} group presence record(s) failed, retrying in ${delay} ms: ${asError(err).message}`);
          await sleep(delay);
        }
      }
    }
  }

  private async applyBatch(batch: Message[]): Promise<void> {
    const entries: Array<{ groupId: string; value: GroupPresence | null; m: Message }> = [];
    for (const m of batch) {
      const origin = `${m.topic}[${m.partition}]@${m.offset}`;
      const key = keyOf(m);
      if (!key) {
        await this.deadLetter('missing-key', `group-presence record without a key`, m, origin);
        continue;
      }
      if (!m.value || m.value.length === 0) {
        entries.push({ groupId: key, value: null, m });
        continue;
      }
      let v: GroupPresence;
      try {
        v = await this.serde.decode('group-presence', m.value);
      } catch (err) {
        if (isOutage(err)) throw err; // the registry did not answer: the batch is retried
        await this.deadLetter('malformed', `undecodable GroupPresence: ${asError(err).message}`, m, origin);
        continue;
      }
      if (v.groupId !== key) {
        await this.deadLetter('key-mismatch', `GroupPresence for ${v.groupId} under key ${key}`, m, origin);
        continue;
      }
      entries.push({ groupId: key, value: v, m });
    }
    const results = await this.store(entries);
    for (const r of results) {
      if (r === 'stored') this.stats.stored++;
      else if (r === 'stale') this.stats.stale++;
      else if (r === 'deleted') this.stats.deleted++;
    }
    // Offsets after the database commit: the next offset of each partition's last record.
    const next = new Map<string, { topic: string; partition: number; offset: number }>();
    for (const m of batch) next.set(`${m.topic}\u0000${m.partition}`, { topic: m.topic, partition: m.partition, offset: m.offset + 1 });
    try {
      this.consumer.commitSync([...next.values()]);
    } catch (err) {
      // Not fatal: the batch is re-read after a rebalance and the version check absorbs it.
      this.o.log?.(`commit failed: ${asError(err).message}`);
    }
    this.stats.consumed += batch.length;
    this.stats.batches++;
  }

  /**
   * Stores the batch in one transaction. When the database refuses a record's values (bad
   * input such as a NUL, SQLSTATE 22021), that would fail every retry of the batch: the
   * records are then stored one by one and the refused ones dead-lettered. Outages propagate (retry).
   */
  private async store(entries: Array<{ groupId: string; value: GroupPresence | null; m: Message }>): ReturnType<GroupPresenceTable['applyBatch']> {
    try {
      return await this.table.applyBatch(entries);
    } catch (err) {
      if (isOutage(err)) throw err;
    }
    const out: Awaited<ReturnType<GroupPresenceTable['applyBatch']>> = [];
    for (const e of entries) {
      try {
        out.push(...(await this.table.applyBatch([e])));
      } catch (err) {
        const why = classifyError(err);
        if (why.kind === 'outage') throw err;
        await this.deadLetter(
          why.reason,
          `GroupPresence of ${e.groupId} refused: ${asError(err).message}`,
          e.m,
          `${e.m.topic}[${e.m.partition}]@${e.m.offset}`,
          why.layer,
        );
      }
    }
    return out;
  }

  private async deadLetter(reason: string, message: string, m: Message, origin: string, layer = 'avro'): Promise<void> {
    const dl = deadLetter(COMPONENT, layer, reason, message, m.value ?? Buffer.alloc(0), origin, keyOf(m) ? { key: keyOf(m)! } : {});
    await this.producer.send(this.deadLetterTopic, COMPONENT, this.serde.encode('dead-letters', dl));
    this.stats.deadLetters++;
    this.o.log?.(`${origin}: ${message} (dead-lettered)`);
  }

  statsLine(): string {
    const st = this.stats;
    return `consumed ${st.consumed} in ${st.batches} batches; stored ${st.stored}, stale ${st.stale}, deleted ${st.deleted}, dead letters ${st.deadLetters}, database failures ${st.failures}`;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.loop?.catch(() => {});
    await disconnect(this.consumer);
    await this.producer.close();
  }
}
