// Publishes what a tap produced: signaling events (Avro, keyed by subscriber)
// to the signaling topic, and input it could not decode to the dead-letter
// topic with its raw bytes. Bounded in flight, so a fast replay applies
// back-pressure instead of queueing a whole capture in memory.
import type { Settings } from '../config/settings.ts';
import type { DeadLetter, SignalingEvent } from '../schemas/generated/records.ts';
import { RecordSerde } from '../schemas/serde.ts';
import { topicName } from '../schemas/topology.ts';
import { RecordProducer } from '../kafka/recordProducer.ts';

/**
 * How long a record may wait for the brokers before the tap stops with the reason.
 * Longer than a broker restart (a killed single broker answered again 18 s after the
 * kill here, test/chaos/brokerRestart.test.ts), which librdkafka's idempotent producer
 * rides out without loss or duplicates; back-pressure (maxInFlight) bounds the memory
 * meanwhile.
 */
const DELIVERY_TIMEOUT_MS = 120_000;

export class SignalingPublisher {
  readonly stats = { events: 0, deadLetters: 0, bytes: 0 };
  private readonly producer: RecordProducer;
  private readonly serde: RecordSerde;
  private readonly signalingTopic: string;
  private readonly deadTopic: string;
  private inflight = 0;
  /** One waiter at a time: woken when the in-flight count falls to its threshold. */
  private waiter: { threshold: number; resolve: () => void } | undefined;
  private failure: Error | undefined;

  constructor(
    s: Settings,
    clientId: string,
    private readonly maxInFlight = 20_000,
  ) {
    this.producer = new RecordProducer(s.kafka.brokers, clientId, DELIVERY_TIMEOUT_MS);
    this.serde = new RecordSerde(s.registry.url, s.topics.prefix);
    this.signalingTopic = topicName(s.topics.prefix, 'signaling-events');
    this.deadTopic = topicName(s.topics.prefix, 'dead-letters');
  }

  async connect(): Promise<void> {
    await this.serde.loadIds();
    await this.producer.connect();
  }

  private settled = (): void => {
    this.inflight--;
    if (this.waiter && this.inflight <= this.waiter.threshold) {
      this.waiter.resolve();
      this.waiter = undefined;
    }
  };

  private waitUntilAtMost(threshold: number): Promise<void> {
    if (this.inflight <= threshold) return Promise.resolve();
    return new Promise((resolve) => (this.waiter = { threshold, resolve }));
  }

  private async track(p: Promise<unknown>): Promise<void> {
    if (this.failure) throw this.failure;
    this.inflight++;
    p.then(this.settled, (err: Error) => {
      this.failure ??= err;
      this.settled();
    });
    // Back-pressure: once the window is full, wait until half of it is
    // acknowledged (one wake-up per half window, not one per record).
    if (this.inflight >= this.maxInFlight) await this.waitUntilAtMost(this.maxInFlight / 2);
    if (this.failure) throw this.failure;
  }

  async publish(e: SignalingEvent): Promise<void> {
    const value = this.serde.encode('signaling-events', e);
    this.stats.events++;
    this.stats.bytes += value.length;
    await this.track(this.producer.send(this.signalingTopic, e.subscriber, value, e.time));
  }

  async deadLetter(d: DeadLetter): Promise<void> {
    this.stats.deadLetters++;
    await this.track(this.producer.send(this.deadTopic, d.component, this.serde.encode('dead-letters', d), d.time));
  }

  /** Waits for every record to be acknowledged; throws the first delivery failure. */
  async drain(): Promise<void> {
    await this.waitUntilAtMost(0);
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    await this.drain().finally(() => this.producer.close());
  }
}
