// Publishes what a tap produced: signaling events (Avro, keyed by subscriber)
// to the signaling topic, and input it could not decode to the dead-letter
// topic with its raw bytes. Exactly once for read_committed readers (every
// reader of signaling-events is one): records go out in short transactions
// (kafka/transactionalBatches.ts), because the idempotent producer alone wrote a
// record twice when librdkafka bumped its epoch across a broker restart
// (test/integration/tapPublisherEpochBump.test.ts). Bounded in flight, so a fast
// replay applies back-pressure instead of queueing a whole capture in memory.
import type { Settings } from '../config/settings.ts';
import type { DeadLetter, SignalingEvent } from '../schemas/generated/records.ts';
import { RecordSerde } from '../schemas/serde.ts';
import { topicName } from '../schemas/topology.ts';
import { TransactionalBatchProducer } from '../kafka/transactionalBatches.ts';

/**
 * How long a batch may fail to commit before the tap stops with the reason.
 * Longer than a broker restart (a killed single broker answered again 18 s after the
 * kill here, test/chaos/brokerRestart.test.ts); back-pressure (maxInFlight) bounds
 * the memory meanwhile.
 */
const DELIVERY_TIMEOUT_MS = 120_000;
/**
 * The coordinator aborts a tap transaction open longer than this: longer than a broker
 * restart, so the transaction open when the broker died usually commits once it is back
 * (should it not, the batch is written again). A tap that crashes holds read_committed
 * readers back this long at most, less when it restarts with the same id (same host and pid:
 * a container restarted in its pod).
 */
const TRANSACTION_TIMEOUT_MS = 30_000;
/** A record waits at most this long for its transaction to commit: the latency the tap adds. */
const COMMIT_INTERVAL_MS = 50;

/**
 * The tap's transactional id: `<topic prefix>tap-` (its ACL prefix, schemas/roleAccess.ts) and
 * the client id, which names one tap instance: stable across its restarts (`--member-id`), so a
 * restarted tap fences its crashed predecessor and aborts the transaction it left open, which
 * read_committed readers would otherwise wait on until the transaction timeout; unique among
 * taps running at once (two sharing an id would fence each other).
 */
export function tapTransactionalId(prefix: string, clientId: string): string {
  return `${prefix}tap-${clientId}`;
}

export class SignalingPublisher {
  readonly stats = { events: 0, deadLetters: 0, bytes: 0 };
  private readonly producer: TransactionalBatchProducer;
  private readonly serde: RecordSerde;
  private readonly signalingTopic: string;
  private readonly deadTopic: string;

  constructor(
    s: Settings,
    clientId: string,
    private readonly maxInFlight = 20_000,
  ) {
    this.producer = new TransactionalBatchProducer({
      brokers: s.kafka.brokers,
      clientId,
      transactionalId: tapTransactionalId(s.topics.prefix, clientId),
      commitIntervalMs: COMMIT_INTERVAL_MS,
      maxBatch: Math.max(1, Math.floor(maxInFlight / 2)),
      deliveryTimeoutMs: DELIVERY_TIMEOUT_MS,
      transactionTimeoutMs: TRANSACTION_TIMEOUT_MS,
    });
    this.serde = new RecordSerde(s.registry.url, s.topics.prefix);
    this.signalingTopic = topicName(s.topics.prefix, 'signaling-events');
    this.deadTopic = topicName(s.topics.prefix, 'dead-letters');
  }

  /** What the transactions did (aborted and written again, producers replaced): for tests and logs. */
  get transactions(): Readonly<TransactionalBatchProducer['stats']> {
    return this.producer.stats;
  }

  async connect(): Promise<void> {
    await this.serde.loadIds();
    await this.producer.connect();
  }

  private async send(topic: string, key: string, value: Buffer): Promise<void> {
    // Stamped with the time of publishing, not of capture (that is the event's `time`): the
    // brokers' retention counts from the record's timestamp, and a capture replayed after the
    // topic's retention would be deleted at the next retention check, read or not
    // (test/integration/replayRetention.test.ts).
    this.producer.send({ topic, key: Buffer.from(key), value, timestamp: Date.now() });
    // Back-pressure: once the window is full, wait until half of it is committed
    // (one wake-up per half window, not one per record).
    if (this.producer.uncommitted >= this.maxInFlight) await this.producer.uncommittedAtMost(this.maxInFlight / 2);
  }

  async publish(e: SignalingEvent): Promise<void> {
    const value = this.serde.encode('signaling-events', e);
    this.stats.events++;
    this.stats.bytes += value.length;
    await this.send(this.signalingTopic, e.subscriber, value);
  }

  async deadLetter(d: DeadLetter): Promise<void> {
    this.stats.deadLetters++;
    await this.send(this.deadTopic, d.component, this.serde.encode('dead-letters', d));
  }

  /** Waits until every record is committed; throws the failure that stopped the publisher. */
  drain(): Promise<void> {
    return this.producer.flush();
  }

  async close(): Promise<void> {
    await this.producer.close();
  }
}
