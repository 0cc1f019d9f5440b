// A RecordProducer's interface (send resolves once the record is safe) for writers of
// topics that exactly-once processors read (signaling-events, availability-profiles,
// watcher-consents …): each record is written in a short transaction
// (transactionalBatches.ts), so a read_committed reader sees it once even when
// librdkafka's idempotent producer would have written it twice across an epoch bump
// (test/integration/tapPublisherEpochBump.test.ts, issue 12).
//
// Unlike the taps' publisher, a request/response service must survive an outage: a
// producer that gave up (brokers down past the delivery timeout) fails the sends of
// that time, and the next send makes a new one with the same transactional id (which
// aborts what the failed one left open).
import os from 'node:os';
import { KafkaUnavailableError } from './recordProducer.ts';
import { asError } from './rdkafkaPromises.ts';
import { TransactionalBatchProducer, type TransactionalBatchOptions } from './transactionalBatches.ts';

export class TransactionalRecordWriter {
  private batches: TransactionalBatchProducer | undefined;
  private replacing: Promise<TransactionalBatchProducer> | undefined;
  /** Producers replaced after a failure; the current one's transactions (for tests and logs). */
  replaced = 0;

  constructor(private readonly o: TransactionalBatchOptions) {}

  get stats(): Readonly<TransactionalBatchProducer['stats']> | undefined {
    return this.batches?.stats;
  }

  async connect(): Promise<void> {
    this.batches = await this.open();
  }

  private async open(): Promise<TransactionalBatchProducer> {
    const b = new TransactionalBatchProducer({ commitIntervalMs: 5, ...this.o });
    try {
      await b.connect();
    } catch (err) {
      throw new KafkaUnavailableError(this.o.brokers, `could not connect: ${asError(err).message}`);
    }
    return b;
  }

  private async current(): Promise<TransactionalBatchProducer> {
    const b = this.batches;
    if (!b) throw new Error(`${this.o.clientId}: producer not connected`);
    if (!b.failed) return b;
    // One replacement for every caller that saw the failure.
    this.replacing ??= (async () => {
      await b.close().catch(() => {});
      const next = await this.open();
      this.batches = next;
      this.replaced++;
      return next;
    })().finally(() => (this.replacing = undefined));
    return this.replacing;
  }

  /** Resolves once the record's transaction committed; rejects with KafkaUnavailableError when it cannot be. */
  async send(topic: string, key: string | null, value: Buffer | null, timestamp?: number): Promise<void> {
    const b = await this.current();
    try {
      await b.sendCommitted({ topic, key: key === null ? null : Buffer.from(key), value, timestamp: timestamp ?? Date.now() });
    } catch (err) {
      throw new KafkaUnavailableError(this.o.brokers, asError(err).message);
    }
  }

  async close(): Promise<void> {
    await this.replacing?.catch(() => {});
    await this.batches?.close();
  }
}

/** Writers made so far in this process, per name: a second one of a name (two services in one test process) gets its own id. */
const made = new Map<string, number>();

/**
 * `<topic prefix><name>-<host>-<pid>` (then `-2`, `-3` … for more writers of the name in this
 * process): under the role's transactional-id ACL prefix (schemas/roleAccess.ts), unique among
 * the producers running at once (two sharing an id would fence each other), the same for a
 * container restarted in its pod.
 */
export function writerTransactionalId(prefix: string, name: string): string {
  const n = (made.get(name) ?? 0) + 1;
  made.set(name, n);
  return `${prefix}${name}-${os.hostname()}-${process.pid}${n > 1 ? `-${n}` : ''}`;
}
