// Timers of a processor member (Kafka Streams' punctuation, wall-clock time): every
// `punctuateIntervalMs` the loop runs the punctuator between batches, in a
// transaction of its own with the punctuator's outputs and store writes, and the
// owned partitions' committed offsets: a member that left the group cannot commit
// its timers (a "terminated" NOTIFY, an expiry) behind the partitions' new owner.
import type { ExactlyOnceProducer } from './exactlyOnceProducer.ts';
import type { OutputRecord, ProcessContext } from './processorTypes.ts';
import type { TopicPartitionOffset } from './rdkafkaPromises.ts';

export class Punctuator<V> {
  private lastPunctuate = Date.now();

  constructor(
    private readonly punctuate: (nowMs: number, ctx: ProcessContext<V>) => Promise<OutputRecord[]> | OutputRecord[],
    private readonly intervalMs: number,
    private readonly producer: ExactlyOnceProducer<V>,
    private readonly ctx: ProcessContext<V>,
    private readonly fencingOffsets: () => TopicPartitionOffset[],
    /** With stores, timers belong to owned partitions: none live, nothing to punctuate (and nothing to fence with). */
    private readonly perPartition: boolean,
  ) {}

  /** Runs the punctuator when its interval has passed since it last ran. */
  async runIfDue(): Promise<void> {
    if (Date.now() - this.lastPunctuate < this.intervalMs) return;
    this.lastPunctuate = Date.now();
    await this.run();
  }

  /** Timers: a transaction of their own with the punctuator's outputs and store writes (none when nothing is due). */
  private async run(): Promise<void> {
    if (this.perPartition && this.ctx.partitions().length === 0) return;
    await this.producer.hookTransaction('punctuation', () => this.punctuate(Date.now(), this.ctx), this.fencingOffsets());
  }
}
