// One processing batch from a consumer, bounded in time as well as in size.
// node-rdkafka's consume(n) waits its timeout for EACH missing record and has
// no batch deadline: records arriving faster than that timeout held a batch
// open until it was full (500 records at 500/s: a second before any of them
// was processed, measured with bench/sipEdge.ts). Here the first records are
// waited for as before; after them the batch takes only what is already
// fetched or arrives within `followMs`, and never collects for longer than
// `windowMs`. The transaction commit that follows lets the next batch fill.
import { consumeBatch, type Consumer, type Message } from './rdkafkaPromises.ts';

interface BatchBounds {
  readonly max: number;
  /** Wait per missing record for the first records (idle wait). */
  readonly firstWaitMs: number;
  /** Wait per missing record once the batch has started. */
  readonly followMs: number;
  /** No more collecting this long after the first records came. */
  readonly windowMs: number;
  /** Records asked for per consume call (the window is checked between calls). */
  readonly chunk: number;
}

export const DEFAULT_BATCH_BOUNDS: BatchBounds = { max: 500, firstWaitMs: 10, followMs: 1, windowMs: 20, chunk: 64 };

export async function consumeBounded(c: Consumer, b: BatchBounds): Promise<Message[]> {
  c.setDefaultConsumeTimeout(b.firstWaitMs);
  const batch = await consumeBatch(c, Math.min(b.chunk, b.max));
  if (batch.length === 0) return batch;
  const deadline = performance.now() + b.windowMs;
  c.setDefaultConsumeTimeout(b.followMs);
  while (batch.length < b.max && performance.now() < deadline) {
    const more = await consumeBatch(c, Math.min(b.chunk, b.max - batch.length));
    if (more.length === 0) break;
    for (const m of more) batch.push(m);
  }
  return batch;
}
