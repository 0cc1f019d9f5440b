// The taps' transactional batches against a scripted producer: what librdkafka
// advises per failure is what happens, and no record is committed twice or
// left out (the broker-side behaviour: test/integration/tapPublisherEpochBump.test.ts).
import { describe, expect, it } from 'vitest';
import type { Producer } from './rdkafkaPromises.ts';
import { TransactionalBatchProducer, type BatchRecord } from './transactionalBatches.ts';

type Failure = { message: string; isRetriable?: boolean; isTxnRequiresAbort?: boolean; isFatal?: boolean };
const fail = (f: Failure) => Object.assign(new Error(f.message), f);

/** A fake cluster: what committed transactions wrote, and scripted failures. */
class Cluster {
  readonly committed: string[] = [];
  readonly commitFailures: Failure[] = [];
  readonly produceFailures: number[] = [];
  producers = 0;
  produced = 0;

  producer(): Producer {
    this.producers++;
    let open: string[] | undefined;
    let fatal = false;
    const cb = (done: (e?: Error) => void, e?: Error) => setImmediate(() => done(e));
    const fake = {
      beginTransaction: (done: (e?: Error) => void) => {
        if (fatal) return cb(done, fail({ message: 'fatal state', isFatal: true }));
        open = [];
        cb(done);
      },
      produce: (_t: string, _p: null, value: Buffer) => {
        if (!open) throw new Error('no transaction');
        if (this.produceFailures.includes(this.produced++)) throw fail({ message: 'Local: Queue full' });
        open.push(value.toString());
      },
      commitTransaction: (_ms: number, done: (e?: Error) => void) => {
        const f = this.commitFailures.shift();
        if (f?.isFatal) fatal = true;
        if (f) return cb(done, fail(f));
        this.committed.push(...open!);
        open = undefined;
        cb(done);
      },
      abortTransaction: (_ms: number, done: (e?: Error) => void) => {
        if (fatal) return cb(done, fail({ message: 'fatal state', isFatal: true }));
        open = undefined;
        cb(done);
      },
      isConnected: () => true,
      disconnect: (done: () => void) => cb(done),
      setPollInterval: () => {},
    };
    return fake as unknown as Producer;
  }
}

const record = (i: number): BatchRecord => ({ topic: 't', key: null, value: Buffer.from(`r${i}`), timestamp: 0 });

async function run(cluster: Cluster, n: number, deliveryTimeoutMs = 10_000): Promise<TransactionalBatchProducer> {
  const p = new TransactionalBatchProducer({
    brokers: 'fake',
    clientId: 'unit',
    transactionalId: 'unit-tx',
    commitIntervalMs: 5,
    deliveryTimeoutMs,
    log: () => {},
    newProducer: async () => cluster.producer(),
  });
  await p.connect();
  for (let i = 0; i < n; i++) p.send(record(i));
  await p.flush();
  return p;
}

const all = (n: number) => Array.from({ length: n }, (_, i) => `r${i}`);

describe('transactional batches', () => {
  it('an abortable commit failure: the batch is aborted and written again, committed once', async () => {
    const c = new Cluster();
    c.commitFailures.push({ message: 'unknown producer id', isTxnRequiresAbort: true });
    const p = await run(c, 5);
    expect(c.committed).toEqual(all(5));
    expect(p.stats).toMatchObject({ aborts: 1, resent: 5, restarts: 0 });
  });

  it('a fatal failure (fenced after the coordinator timed the transaction out): a new producer writes the batch, once', async () => {
    const c = new Cluster();
    c.commitFailures.push({ message: 'producer fenced', isFatal: true });
    const p = await run(c, 5);
    expect(c.committed).toEqual(all(5));
    expect(c.producers).toBe(2);
    expect(p.stats).toMatchObject({ restarts: 1, resent: 5 });
  });

  it('a retriable commit failure (a timeout) is retried, not aborted', async () => {
    const c = new Cluster();
    c.commitFailures.push({ message: 'timed out', isRetriable: true }, { message: 'timed out', isRetriable: true });
    const p = await run(c, 3);
    expect(c.committed).toEqual(all(3));
    expect(p.stats).toMatchObject({ aborts: 0, resent: 0 });
  });

  it('a record librdkafka refused to queue is never committed without: the transaction is written again with it', async () => {
    const c = new Cluster();
    c.produceFailures.push(2);
    await run(c, 4);
    expect([...c.committed].sort()).toEqual(all(4));
  });

  it('a batch that cannot be committed within the delivery timeout fails the producer with the reason', async () => {
    const c = new Cluster();
    for (let i = 0; i < 1000; i++) c.commitFailures.push({ message: 'broker down', isRetriable: true });
    await expect(run(c, 2, 300)).rejects.toThrow(/2 records not committed within 300 ms.*broker down/);
    expect(c.committed).toEqual([]);
  });

  it('records sent while a transaction commits go into the next one', async () => {
    const c = new Cluster();
    const p = new TransactionalBatchProducer({
      brokers: 'fake',
      clientId: 'unit',
      transactionalId: 'unit-tx',
      commitIntervalMs: 5,
      newProducer: async () => c.producer(),
    });
    await p.connect();
    p.send(record(0));
    const first = p.flush();
    p.send(record(1));
    await first;
    await p.close();
    expect(c.committed).toEqual(all(2));
    expect(p.stats.transactions).toBeGreaterThanOrEqual(1);
  });
});
