// Timers of a processor member (Kafka Streams' punctuation, wall-clock time): every
// `punctuateIntervalMs` the loop runs the punctuator between batches, in a
// transaction of its own with the punctuator's outputs and store writes.
import type { ExactlyOnceProducer } from './exactlyOnceProducer.ts';
import type { OutputRecord, ProcessContext, ProcessorStats } from './processorTypes.ts';
import { asError } from './rdkafkaPromises.ts';

export class Punctuator<V> {
  private lastPunctuate = Date.now();

  constructor(
    private readonly punctuate: (nowMs: number, ctx: ProcessContext<V>) => Promise<OutputRecord[]> | OutputRecord[],
    private readonly intervalMs: number,
    private readonly producer: ExactlyOnceProducer<V>,
    private readonly ctx: ProcessContext<V>,
    private readonly stats: ProcessorStats,
  ) {}

  /** Runs the punctuator when its interval has passed since it last ran. */
  async runIfDue(): Promise<void> {
    if (Date.now() - this.lastPunctuate < this.intervalMs) return;
    this.lastPunctuate = Date.now();
    await this.run();
  }

  /** Timers: a transaction of their own with the punctuator's outputs and store writes. */
  private async run(): Promise<void> {
    try {
      await this.producer.begin();
      const outputs = await this.punctuate(Date.now(), this.ctx);
      this.producer.produceAll(outputs);
      await this.producer.commit(outputs.length);
    } catch (err) {
      const e = asError(err);
      this.stats.lastError = e.message;
      this.producer.afterFailure(err, e);
      this.stats.aborts += 1;
      await this.producer.abort().catch(() => {});
    }
  }
}
