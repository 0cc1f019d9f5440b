// An idempotent (acks=all) node-rdkafka producer whose send() resolves when
// the broker has the record, and rejects with a clear error when it cannot
// take it within the delivery timeout (e.g. the broker is down).
import Kafka from 'node-rdkafka';
import { producerConfig, producerTopicConfig } from './rdkafkaConfig.ts';
import { asError, connectProducer, disconnect, flush, type Producer } from './rdkafkaPromises.ts';
import { routeClientLog } from './clientLog.ts';

export interface Delivered {
  topic: string;
  partition: number;
  offset: number;
}

export class KafkaUnavailableError extends Error {
  constructor(brokers: string, detail: string) {
    super(`Kafka at ${brokers} did not take the record: ${detail}`);
    this.name = 'KafkaUnavailableError';
  }
}

export class RecordProducer {
  private readonly producer: Producer;
  // Insertion-ordered, so the oldest waiters are first for the sweeper.
  private readonly pending = new Map<number, { resolve: (d: Delivered) => void; reject: (e: Error) => void; sentAt: number }>();
  private seq = 0;
  private sweeper: NodeJS.Timeout | undefined;
  private connected = false;

  constructor(
    readonly brokers: string,
    clientId: string,
    readonly deliveryTimeoutMs = 30_000,
  ) {
    // message.timeout.ms, like the partitioner, is a topic property in node-rdkafka.
    this.producer = new Kafka.Producer(producerConfig({ brokers, clientId }), { ...producerTopicConfig, 'message.timeout.ms': deliveryTimeoutMs });
    routeClientLog(this.producer, clientId);
    this.producer.on('delivery-report', (err, report) => {
      const waiter = this.pending.get(report.opaque as number);
      if (!waiter) return;
      this.pending.delete(report.opaque as number);
      if (err) waiter.reject(new KafkaUnavailableError(brokers, asError(err).message));
      else waiter.resolve({ topic: report.topic, partition: report.partition, offset: report.offset });
    });
  }

  async connect(): Promise<void> {
    try {
      await connectProducer(this.producer, Math.min(this.deliveryTimeoutMs, 15_000));
    } catch (err) {
      throw new KafkaUnavailableError(this.brokers, `could not connect: ${asError(err).message}`);
    }
    this.connected = true;
    // Delivery reports are seen only when polled: a SIP 200 waits on them (front end), so poll often.
    this.producer.setPollInterval(5);
    // A safety net: should librdkafka not report a delivery within the
    // timeout (no broker reachable), the waiter is failed here rather than hang.
    this.sweeper = setInterval(() => this.expireOverdue(), 500);
    this.sweeper.unref();
  }

  private expireOverdue(): void {
    const limit = Date.now() - this.deliveryTimeoutMs - 1000;
    for (const [opaque, waiter] of this.pending) {
      if (waiter.sentAt > limit) break;
      this.pending.delete(opaque);
      waiter.reject(new KafkaUnavailableError(this.brokers, `no acknowledgement within ${this.deliveryTimeoutMs} ms (is the broker down?)`));
    }
  }

  /** Queues a record; resolves on broker acknowledgement. Keys are UTF-8 strings (see schemas/topology.ts). */
  send(topic: string, key: string | null, value: Buffer | null, timestamp?: number): Promise<Delivered> {
    const opaque = ++this.seq;
    return new Promise<Delivered>((resolve, reject) => {
      this.pending.set(opaque, { resolve, reject, sentAt: Date.now() });
      try {
        this.producer.produce(topic, null, value, key === null ? null : Buffer.from(key), timestamp ?? Date.now(), opaque);
      } catch (err) {
        this.pending.delete(opaque);
        reject(asError(err));
      }
    });
  }

  async flush(timeoutMs = this.deliveryTimeoutMs): Promise<void> {
    await flush(this.producer, timeoutMs);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    // Never connected (e.g. SASL refused): nothing to flush, and a flush would wait out librdkafka's pending connect.
    if (!this.connected) return;
    await flush(this.producer, 5000).catch(() => {});
    await disconnect(this.producer);
  }
}
