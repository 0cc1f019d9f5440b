// Restores a partition's state store from its compacted changelog topic
// before processing of that partition resumes: read_committed, from the
// beginning to the end (librdkafka's partition EOF, which read_committed
// places at the last stable offset).
import Kafka from 'node-rdkafka';
import { asError, connectConsumer, consumeBatch, disconnect, type Consumer } from './rdkafkaPromises.ts';
import type { PartitionStore } from './partitionStore.ts';

/** librdkafka's RD_KAFKA_OFFSET_BEGINNING: a compacted log may not start at 0. */
const OFFSET_BEGINNING = -2;

export interface RestoreResult {
  partition: number;
  records: number;
  keys: number;
  ms: number;
}

export class ChangelogRestorer<V> {
  private consumer: Consumer | undefined;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly brokers: string,
    private readonly changelogTopic: string,
    private readonly decode: (value: Buffer) => V | Promise<V>,
  ) {}

  private async client(): Promise<Consumer> {
    if (this.consumer) return this.consumer;
    const c = new Kafka.KafkaConsumer(
      {
        'metadata.broker.list': this.brokers,
        // Never commits: the group id only satisfies the client.
        'group.id': `restorer-${process.pid}-${Date.now()}`,
        'enable.auto.commit': false,
        'isolation.level': 'read_committed',
        'enable.partition.eof': true,
        'fetch.max.bytes': 52_428_800,
      },
      { 'auto.offset.reset': 'earliest' },
    );
    await connectConsumer(c);
    c.setDefaultConsumeTimeout(100);
    this.consumer = c;
    return c;
  }

  /** Restores one partition; restores run one after another on one client. */
  restore(store: PartitionStore<V>): Promise<RestoreResult> {
    const run = this.chain.then(() => this.restoreNow(store));
    this.chain = run.catch(() => {});
    return run;
  }

  private async restoreNow(store: PartitionStore<V>): Promise<RestoreResult> {
    const started = Date.now();
    const c = await this.client();
    const tp = { topic: this.changelogTopic, partition: store.partition };
    let eof = false;
    const onEof = (e: { topic: string; partition: number }) => {
      if (e.topic === tp.topic && e.partition === tp.partition) eof = true;
    };
    c.on('partition.eof', onEof);
    c.assign([{ ...tp, offset: OFFSET_BEGINNING }]);
    let records = 0;
    try {
      while (!eof) {
        const batch = await consumeBatch(c, 5000).catch((e) => {
          throw new Error(`restoring ${tp.topic}[${tp.partition}] failed: ${asError(e).message}`);
        });
        for (const m of batch) {
          if (m.partition !== tp.partition || !m.key) continue;
          records++;
          store.restore(m.key.toString('utf8'), m.value ? await this.decode(m.value) : null);
        }
      }
    } finally {
      c.removeListener('partition.eof', onEof);
      c.unassign();
    }
    return { partition: tp.partition, records, keys: store.size, ms: Date.now() - started };
  }

  async close(): Promise<void> {
    await this.chain.catch(() => {});
    if (this.consumer) await disconnect(this.consumer);
    this.consumer = undefined;
  }
}
