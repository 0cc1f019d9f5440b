// `presence run location-agent`: location-requests → MLP over Le → positions on
// signaling-events, keyed by subscriber like the taps' events. Outside the
// event managers' transactions on purpose: an HTTP round trip to a GMLC (and
// its timeouts) must never hold up their exactly-once loop. At-least-once: a
// batch's offsets are committed after its answers are committed, so a crash
// re-asks (the per-subscriber rate limit and the event manager's duplicate
// check by eventId absorb it). A request that cannot be decoded is counted and
// dead-lettered with its bytes; a registry outage while decoding stops the loop
// before the commit (re-read after a restart), never a dead letter. Each answer
// is written in a short transaction (kafka/transactionalRecordWriter.ts): the
// event managers read signaling-events read_committed, and an idempotent
// producer alone wrote a record twice across an epoch bump (issue 12).
import Kafka from 'node-rdkafka';
import os from 'node:os';
import type { Settings } from '../../config/settings.ts';
import { consumerConfig, consumerTopicConfig } from '../../kafka/rdkafkaConfig.ts';
import { asError, connectConsumer, consumeBatch, disconnect, type Consumer, type Message } from '../../kafka/rdkafkaPromises.ts';
import { TransactionalRecordWriter, writerTransactionalId } from '../../kafka/transactionalRecordWriter.ts';
import { deadLetterForFailure } from '../../kafka/deadLetters.ts';
import { routeClientLog } from '../../kafka/clientLog.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { topicName } from '../../schemas/topology.ts';
import type { LocationAgent } from './locationAgent.ts';

export const LOCATION_AGENT_GROUP = 'presence-location-agent';

export interface LocationAgentLoopStats {
  requests: number;
  positions: number;
  undecodable: number;
  commits: number;
}

export interface LocationAgentLoopOptions {
  /** Requests answered at once (each is an HTTP exchange with the GMLC). */
  readonly concurrency?: number;
  readonly log?: (line: string) => void;
}

export class LocationAgentLoop {
  readonly stats: LocationAgentLoopStats = { requests: 0, positions: 0, undecodable: 0, commits: 0 };
  /** The consume loop while running; stop() waits for it. */
  private loop: Promise<void> | undefined;
  private running = false;

  private constructor(
    private readonly consumer: Consumer,
    private readonly producer: TransactionalRecordWriter,
    private readonly serde: RecordSerde,
    private readonly agent: LocationAgent,
    private readonly output: string,
    private readonly deadLetters: string,
    private readonly o: LocationAgentLoopOptions,
  ) {}

  static async start(s: Settings, agent: LocationAgent, o: LocationAgentLoopOptions = {}): Promise<LocationAgentLoop> {
    const clientId = `location-agent-${os.hostname()}-${process.pid}`;
    const serde = new RecordSerde(s.registry.url, s.topics.prefix);
    await serde.loadIds();
    // Transactional: an idempotent producer can write a position twice across an epoch bump (issue 12).
    const producer = new TransactionalRecordWriter({
      brokers: s.kafka.brokers,
      clientId,
      transactionalId: writerTransactionalId(s.topics.prefix, 'location-agent'),
      deliveryTimeoutMs: 120_000,
      transactionTimeoutMs: 30_000,
      ...(o.log ? { log: o.log } : {}),
    });
    await producer.connect();
    const consumer = new Kafka.KafkaConsumer(
      consumerConfig({ brokers: s.kafka.brokers, clientId }, { groupId: `${s.topics.prefix}${LOCATION_AGENT_GROUP}` }),
      consumerTopicConfig,
    );
    routeClientLog(consumer, clientId);
    await connectConsumer(consumer).catch(async (e) => {
      await producer.close();
      throw new Error(`location agent could not connect to Kafka at ${s.kafka.brokers}: ${asError(e).message}`);
    });
    consumer.setDefaultConsumeTimeout(500);
    consumer.subscribe([topicName(s.topics.prefix, 'location-requests')]);
    const loop = new LocationAgentLoop(
      consumer,
      producer,
      serde,
      agent,
      topicName(s.topics.prefix, 'signaling-events'),
      topicName(s.topics.prefix, 'dead-letters'),
      o,
    );
    loop.running = true;
    loop.loop = loop.run();
    loop.loop.catch(() => {}); // reported through done()
    return loop;
  }

  done(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  private async run(): Promise<void> {
    while (this.running) {
      const batch = await consumeBatch(this.consumer, 100);
      if (batch.length === 0) continue;
      await this.answerAll(batch);
      // Commit what was answered (offset + 1 per partition, the batch is in order per partition).
      const next = new Map<string, Kafka.TopicPartitionOffset>();
      for (const m of batch) next.set(`${m.topic}\u0000${m.partition}`, { topic: m.topic, partition: m.partition, offset: m.offset + 1 });
      this.consumer.commitSync([...next.values()]);
      this.stats.commits++;
    }
  }

  private async answerAll(batch: Message[]): Promise<void> {
    const queue = [...batch];
    const worker = async () => {
      for (let m = queue.shift(); m; m = queue.shift()) await this.answerOne(m);
    };
    await Promise.all(Array.from({ length: Math.max(1, this.o.concurrency ?? 8) }, worker));
  }

  private async answerOne(m: Message): Promise<void> {
    this.stats.requests++;
    let request;
    try {
      request = await this.serde.decode('location-requests', m.value!);
    } catch (err) {
      const key = m.key === undefined || m.key === null ? null : m.key.toString();
      // An outage rethrows here: the loop stops before the commit.
      const dl = deadLetterForFailure(err, 'location-agent', 'avro', { key, value: m.value ?? null }, `${m.topic}/${m.partition}@${m.offset}`);
      this.stats.undecodable++;
      this.o.log?.(`undecodable location request at ${m.topic}/${m.partition}@${m.offset}: ${asError(err).message}`);
      await this.producer.send(this.deadLetters, key, this.serde.encode('dead-letters', dl), dl.time);
      return;
    }
    const { outcome, event } = await this.agent.answer(request);
    if (!event) {
      if (!outcome.ok && outcome.reason !== 'rate-limited') this.o.log?.(`${request.subscriber}: no position (${outcome.reason}: ${outcome.detail})`);
      return;
    }
    // An outage rejects here and stops the loop before the commit: the requests are asked again after a restart.
    await this.producer.send(this.output, request.subscriber, this.serde.encode('signaling-events', event), event.time);
    this.stats.positions++;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop?.catch(() => {});
    await disconnect(this.consumer);
    await this.producer.close();
  }
}
